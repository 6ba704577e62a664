package dev.kv.core;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The pages of a listing, one after the other, each after the first read at the first one's
 * revision: the keys as the store held them at one moment, however many pages they take and
 * whatever is written meanwhile. It waits for each page, for callers that may wait.
 *
 * <pre>{@code
 * for (Listing pages = Listing.of(store, ListQuery.prefix("users/")); pages.hasNext(); ) {
 *   pages.next().entries().forEach(entry -> ...);
 * }
 * }</pre>
 */
public final class Listing implements Iterator<Page> {

  private final KvStore store;
  private final String name;
  private ListQuery query;
  private Page last;

  private Listing(KvStore store, String name, ListQuery query) {
    this.store = store;
    this.name = name;
    this.query = query;
  }

  /**
   * The pages {@code query} selects in {@code store}, from {@code query}'s revision or the latest.
   */
  public static Listing of(KvStore store, ListQuery query) {
    return of(store, store.toString(), query);
  }

  /** {@link #of(KvStore, ListQuery)}, naming the store {@code name} in messages. */
  public static Listing of(KvStore store, String name, ListQuery query) {
    return new Listing(store, name, query);
  }

  /** Whether a page remains: the first, or one after a page that said more keys follow. */
  @Override
  public boolean hasNext() {
    return last == null || (last.more() && !last.entries().isEmpty());
  }

  /**
   * Reads the next page.
   *
   * @throws KvException as {@link KvStore#list} fails, and with {@link KvException.Code#INTERNAL}
   *     when a page was not read at the first one's revision, as a kv-server older than listings at
   *     a revision answers: the pages would mix revisions
   */
  @Override
  public Page next() {
    if (!hasNext()) {
      throw new NoSuchElementException("the listing has no more pages");
    }
    Page page = store.blocking().list(query);
    if (last != null && page.revision() != last.revision()) {
      throw new KvException(
          KvException.Code.INTERNAL,
          name
              + " answered a page at revision "
              + page.revision()
              + ", not at the listing's, "
              + last.revision()
              + ": it reads no listing at a revision (a kv-server older than this kv?); upgrade it");
    }
    if (!page.entries().isEmpty()) {
      query =
          query
              .startAfter(page.entries().get(page.entries().size() - 1).key())
              .atRevision(page.revision());
    }
    last = page;
    return page;
  }
}
