package dev.kv.core.memory;

import dev.kv.core.Deleted;
import dev.kv.core.KeyValue;
import dev.kv.core.Keys;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.ReadConsistency;
import dev.kv.core.Swap;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Supplier;

/**
 * A store that keeps its entries in this process's memory, sorted by key. Fast and thread-safe, but
 * everything is lost when the process ends: meant for tests and throwaway use.
 *
 * <p>Revisions follow etcd's rules: the store starts at revision 1, and each write that changes
 * something advances it by one, a delete of many keys included.
 */
public final class MemoryStore implements KvStore {

  private final ConcurrentNavigableMap<String, KeyValue> entries =
      new ConcurrentSkipListMap<>(Keys.ORDER);

  /** Writers take turns, so that each gets a revision of its own; readers never wait. */
  private final Object writeLock = new Object();

  private volatile long revision = 1;
  private volatile boolean closed;

  @Override
  public CompletableFuture<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
    return answer(() -> Optional.ofNullable(entries.get(Keys.requireValid(key))));
  }

  @Override
  public CompletableFuture<Long> set(String key, String value) {
    return answer(
        () -> {
          Keys.requireValid(key);
          Keys.requireValue(value);
          synchronized (writeLock) {
            return put(key, value);
          }
        });
  }

  @Override
  public CompletableFuture<Swap> setIf(String key, String value, long expectedModRevision) {
    return answer(
        () -> {
          Keys.requireValid(key);
          Keys.requireValue(value);
          Keys.requireRevision(expectedModRevision);
          synchronized (writeLock) {
            KeyValue current = entries.get(key);
            if (modRevision(current) != expectedModRevision) {
              return new Swap(false, revision, Optional.ofNullable(current));
            }
            return new Swap(true, put(key, value), Optional.empty());
          }
        });
  }

  @Override
  public CompletableFuture<Swap> deleteIf(String key, long expectedModRevision) {
    return answer(
        () -> {
          Keys.requireValid(key);
          Keys.requireExistingRevision(expectedModRevision);
          synchronized (writeLock) {
            KeyValue current = entries.get(key);
            if (modRevision(current) != expectedModRevision) {
              return new Swap(false, revision, Optional.ofNullable(current));
            }
            return new Swap(
                true, deleted(entries.remove(key) == null ? 0 : 1).revision(), Optional.empty());
          }
        });
  }

  private static long modRevision(KeyValue entry) {
    return entry == null ? Swap.ABSENT : entry.modRevision();
  }

  /** Writes one entry at the next revision; the caller holds the write lock. */
  private long put(String key, String value) {
    long written = revision + 1;
    KeyValue previous = entries.get(key);
    entries.put(
        key,
        previous == null
            ? new KeyValue(key, value, written, written, 1)
            : new KeyValue(key, value, previous.createRevision(), written, previous.version() + 1));
    revision = written;
    return written;
  }

  @Override
  public CompletableFuture<Deleted> delete(String key) {
    return answer(
        () -> {
          Keys.requireValid(key);
          synchronized (writeLock) {
            return deleted(entries.remove(key) == null ? 0 : 1);
          }
        });
  }

  @Override
  public CompletableFuture<Deleted> deletePrefix(String prefix) {
    return answer(
        () -> {
          Keys.requireDeletablePrefix(prefix);
          synchronized (writeLock) {
            NavigableMap<String, KeyValue> under = between(prefix, Keys.prefixEnd(prefix));
            int count = under.size();
            under.clear();
            return deleted(count);
          }
        });
  }

  private Deleted deleted(int count) {
    if (count > 0) {
      revision++;
    }
    return new Deleted(count, revision);
  }

  @Override
  public CompletableFuture<Page> list(ListQuery query) {
    return answer(
        () -> {
          // Under the write lock, the page is the store as of one revision.
          synchronized (writeLock) {
            List<KeyValue> page = new ArrayList<>();
            boolean more = false;
            for (KeyValue entry : between(query.pageStart(), query.to()).values()) {
              if (page.size() == query.limit()) {
                more = true;
                break;
              }
              page.add(query.keysOnly() ? entry.withoutValue() : entry);
            }
            return new Page(page, more, revision);
          }
        });
  }

  /** The keys in [from, to); an empty {@code to} has no end. */
  private NavigableMap<String, KeyValue> between(String from, String to) {
    if (to.isEmpty()) {
      return entries.tailMap(from, true);
    }
    if (Keys.ORDER.compare(from, to) >= 0) {
      return entries.subMap(from, true, from, false);
    }
    return entries.subMap(from, true, to, false);
  }

  @Override
  public CompletableFuture<Void> checkHealth() {
    return answer(() -> null);
  }

  /** Runs {@code operation} at once, turning a rejected request into a failed future. */
  private <T> CompletableFuture<T> answer(Supplier<T> operation) {
    try {
      if (closed) {
        throw new KvException(KvException.Code.UNAVAILABLE, "the memory store is closed");
      }
      return CompletableFuture.completedFuture(operation.get());
    } catch (KvException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public void close() {
    closed = true;
    entries.clear();
  }
}
