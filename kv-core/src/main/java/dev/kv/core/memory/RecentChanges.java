package dev.kv.core.memory;

import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import dev.kv.core.local.History;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.stream.Stream;

/**
 * The latest changes of a memory store, for watches that start in the past: the last {@code limit}
 * of them. Not thread-safe: the store uses it under its write lock.
 */
final class RecentChanges implements History {

  private final Deque<WatchEvent> changes = new ArrayDeque<>();
  private final int limit;

  /** The oldest revision whose changes are all still kept. */
  private long firstKept = 1;

  RecentChanges(int limit) {
    this.limit = History.requireLimit(limit);
  }

  /** Keeps {@code change}, forgetting the oldest beyond the limit. */
  void add(WatchEvent change) {
    changes.addLast(change);
    while (changes.size() > limit) {
      firstKept = changes.removeFirst().revision() + 1;
    }
  }

  void clear() {
    changes.clear();
  }

  @Override
  public long firstKept() {
    return firstKept;
  }

  /** Read while the store's write lock is held. */
  @Override
  public Stream<WatchEvent> since(long start, WatchQuery query) {
    return changes.stream()
        .filter(change -> change.revision() >= start && query.covers(change.entry().key()));
  }
}
