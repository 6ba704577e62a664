package dev.kv.core.memory;

import dev.kv.core.KeyValue;
import dev.kv.core.Keys;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.Ttl;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A range of the memory store as a listing's first page saw it, for its later pages: the entries
 * (immutable, so shared, not copied) in key order, and when those with a time to live expire.
 */
final class Listed {

  private final KeyValue[] entries;

  /** For each entry, the nanoseconds it had left to live when copied, or 0 for no end. */
  private final long[] left;

  private final long copiedAt = System.nanoTime();

  private Listed(KeyValue[] entries, long[] left) {
    this.entries = entries;
    this.left = left;
  }

  /** {@code entries}, in key order, and their deadlines from {@code expiries}; under the lock. */
  static Listed copy(Collection<KeyValue> entries, Map<String, ScheduledFuture<?>> expiries) {
    KeyValue[] copied = entries.toArray(KeyValue[]::new);
    long[] left = new long[copied.length];
    for (int i = 0; i < copied.length; i++) {
      ScheduledFuture<?> expiry = expiries.get(copied[i].key());
      if (expiry != null) {
        // At least 1: 0 means no end.
        left[i] = Math.max(1, expiry.getDelay(TimeUnit.NANOSECONDS));
      }
    }
    return new Listed(copied, left);
  }

  /** The page {@code query} asks for, of this range as it was. */
  Page page(ListQuery query) {
    Page.Builder page = Page.builder(query);
    long elapsed = System.nanoTime() - copiedAt;
    for (int i = firstFrom(query.pageStart()); i < entries.length; i++) {
      long ttl = left[i] == 0 ? 0 : Ttl.secondsLeft(Duration.ofNanos(left[i] - elapsed));
      if (!page.add(entries[i], ttl)) {
        return page.build(true, query.revision());
      }
    }
    return page.build(false, query.revision());
  }

  /** The index of the first entry at or after {@code key}. */
  private int firstFrom(String key) {
    int low = 0;
    int high = entries.length;
    while (low < high) {
      int middle = (low + high) >>> 1;
      if (Keys.ORDER.compare(entries[middle].key(), key) < 0) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }
}
