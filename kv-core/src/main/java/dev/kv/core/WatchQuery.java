package dev.kv.core;

import java.util.Objects;

/**
 * Which changes a watch delivers: to one key, or to the keys under a prefix, from now on or from a
 * past revision.
 *
 * @param from the first key watched
 * @param to the key after the last one watched; empty for no end
 * @param startRevision the first revision to deliver, included; 0 for changes from now on
 */
public record WatchQuery(String from, String to, long startRevision) {

  public WatchQuery {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    if (startRevision < 0) {
      throw new KvException(
          KvException.Code.INVALID_ARGUMENT,
          "a start revision must not be negative, not " + startRevision);
    }
  }

  /** Changes to {@code key} alone. */
  public static WatchQuery key(String key) {
    return new WatchQuery(Keys.requireValid(key), key + '\u0000', 0);
  }

  /** Changes to every key that starts with {@code prefix}; the empty prefix watches them all. */
  public static WatchQuery prefix(String prefix) {
    return new WatchQuery(prefix, Keys.prefixEnd(prefix), 0);
  }

  /** The same watch, delivering changes from {@code revision} on, past ones included. */
  public WatchQuery fromRevision(long revision) {
    return new WatchQuery(from, to, revision);
  }

  /** Whether {@code key} is one of the keys watched. */
  public boolean covers(String key) {
    return Keys.ORDER.compare(key, from) >= 0 && (to.isEmpty() || Keys.ORDER.compare(key, to) < 0);
  }
}
