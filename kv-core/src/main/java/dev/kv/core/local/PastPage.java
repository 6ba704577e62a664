package dev.kv.core.local;

import dev.kv.core.KeyValue;
import dev.kv.core.Keys;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A page of a listing at a past revision, rebuilt from the entries as they are now and the changes
 * the store's history keeps since: for stores that keep no past values. A key no change touched
 * since the revision is as it is now; one that changed is as its last change up to the revision
 * left it, or absent when the history shows it was made afterwards. When the history no longer
 * reaches back to what a key held then, the page fails with {@link KvException.Code#OUT_OF_RANGE}
 * rather than guess.
 */
public final class PastPage {

  /** An entry as it is now, and the seconds it has left to live (0 for no end). */
  public record Current(KeyValue entry, long ttlSeconds) {}

  private PastPage() {}

  /**
   * The page {@code query} asks for, at its revision, below {@code now}.
   *
   * @param now the store's revision as {@code current} and {@code history} see it
   * @param current the entries now, from the query's page start on, in key order
   * @param history the changes kept, as of {@code now}
   * @param lease how long a paged listing keeps its revision readable, for the message
   */
  public static Page read(
      ListQuery query, long now, Iterator<Current> current, History history, Duration lease) {
    long at = query.revision();
    long firstKept = history.firstKept();
    if (at + 1 < firstKept) {
      throw ListingRevisions.notKept(at, now, firstKept, lease);
    }
    // The last change of each key up to the revision, and its first one after.
    Map<String, WatchEvent> before = new HashMap<>();
    Map<String, WatchEvent> after = new HashMap<>();
    history
        .since(firstKept, WatchQuery.prefix(""))
        .filter(change -> inPage(query, change.entry().key()))
        .forEach(
            change -> {
              if (change.revision() <= at) {
                before.put(change.entry().key(), change);
              } else {
                after.putIfAbsent(change.entry().key(), change);
              }
            });
    NavigableMap<String, KeyValue> changed = new TreeMap<>(Keys.ORDER);
    after.forEach(
        (key, next) -> {
          WatchEvent last = before.get(key);
          if (last != null) {
            if (last.type() == WatchEvent.Type.PUT) {
              changed.put(key, last.entry());
            }
          } else if (!madeBy(next)) {
            // It held a value then, written before the oldest change the history keeps.
            throw ListingRevisions.notKept(at, now, firstKept, lease);
          }
        });
    Page.Builder page = Page.builder(query);
    Iterator<Map.Entry<String, KeyValue>> rebuilt = changed.entrySet().iterator();
    Map.Entry<String, KeyValue> nextRebuilt = rebuilt.hasNext() ? rebuilt.next() : null;
    while (current.hasNext() || nextRebuilt != null) {
      Current entry = current.hasNext() ? current.next() : null;
      if (entry != null && after.containsKey(entry.entry().key())) {
        continue; // changed since: as the history says
      }
      // The rebuilt entries that come before this one, then this one.
      while (nextRebuilt != null
          && (entry == null || Keys.ORDER.compare(nextRebuilt.getKey(), entry.entry().key()) < 0)) {
        if (!page.add(nextRebuilt.getValue(), 0)) {
          return page.build(true, at);
        }
        nextRebuilt = rebuilt.hasNext() ? rebuilt.next() : null;
      }
      if (entry != null && !page.add(entry.entry(), entry.ttlSeconds())) {
        return page.build(true, at);
      }
    }
    return page.build(false, at);
  }

  /** Whether {@code change} made its key: a write of a key that did not exist before it. */
  private static boolean madeBy(WatchEvent change) {
    return change.type() == WatchEvent.Type.PUT
        && change.entry().createRevision() == change.revision();
  }

  private static boolean inPage(ListQuery query, String key) {
    return Keys.ORDER.compare(key, query.pageStart()) >= 0
        && (query.to().isEmpty() || Keys.ORDER.compare(key, query.to()) < 0);
  }
}
