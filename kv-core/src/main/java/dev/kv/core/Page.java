package dev.kv.core;

import java.util.ArrayList;
import java.util.List;

/**
 * One page of a listing, in key order.
 *
 * @param entries the keys found: at most the query's limit, and at most its byte budget of keys and
 *     values unless the page holds one entry alone
 * @param more whether keys remain after the last one; ask for them with {@link
 *     ListQuery#startAfter} and the last key of this page
 * @param revision the store revision the page was read at
 */
public record Page(List<KeyValue> entries, boolean more, long revision) {

  public Page {
    entries = List.copyOf(entries);
  }

  /** Collects the page {@code query} asks for, for stores that read their entries one by one. */
  public static Builder builder(ListQuery query) {
    return new Builder(query);
  }

  /**
   * A page being filled in key order until the query's limit or byte budget: the rule every store
   * applies, written once.
   */
  public static final class Builder {
    private final ListQuery query;
    private final List<KeyValue> entries = new ArrayList<>();
    private long bytes;

    private Builder(ListQuery query) {
      this.query = query;
    }

    /**
     * Adds the next entry, without its value for a keys-only query, if the page has room for it.
     *
     * @return false when it has none: the page is full, and keys remain after it
     */
    public boolean add(KeyValue entry) {
      KeyValue listed = query.keysOnly() ? entry.withoutValue() : entry;
      long size = listed.byteSize();
      if (entries.size() == query.limit()
          || (!entries.isEmpty() && bytes + size > query.maxBytes())) {
        return false;
      }
      entries.add(listed);
      bytes += size;
      return true;
    }

    /** How many entries the page holds so far. */
    public int size() {
      return entries.size();
    }

    /** How many more bytes of keys and values the page may take. */
    public long bytesLeft() {
      return Math.max(0, query.maxBytes() - bytes);
    }

    /** The page as it stands; {@code more} says whether keys remain after its last. */
    public Page build(boolean more, long revision) {
      return new Page(entries, more, revision);
    }
  }
}
