package dev.kv.core.local;

import dev.kv.core.KvException;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import java.util.stream.Stream;

/**
 * What a store in this process keeps of its past, as of one moment, for watches that start in it:
 * see {@link LocalWatches#open(WatchQuery, dev.kv.core.WatchListener, long,
 * java.util.function.Supplier)}. A read that fails throws {@link KvException}.
 */
public interface History extends AutoCloseable {

  /** The oldest revision whose changes are all kept. */
  long firstKept();

  /** The kept changes from revision {@code start} on that {@code query} covers, in order. */
  Stream<WatchEvent> since(long start, WatchQuery query);

  /** Lets go of what the history held to answer; nothing by default. */
  @Override
  default void close() {}

  /**
   * Checks a store's setting of how many changes or revisions it keeps: at least one.
   *
   * @throws IllegalArgumentException when it keeps none
   */
  static int requireLimit(int historyLimit) {
    if (historyLimit < 1) {
      throw new IllegalArgumentException("historyLimit must be at least 1, not " + historyLimit);
    }
    return historyLimit;
  }
}
