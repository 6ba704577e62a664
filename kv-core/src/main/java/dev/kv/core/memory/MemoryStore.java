package dev.kv.core.memory;

import dev.kv.core.KeyValue;
import dev.kv.core.Keys;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Supplier;

/**
 * A store that keeps its entries in this process's memory, sorted by key. Fast and thread-safe, but
 * everything is lost when the process ends: meant for tests and throwaway use.
 */
public final class MemoryStore implements KvStore {

  private final ConcurrentNavigableMap<String, String> entries = new ConcurrentSkipListMap<>();
  private volatile boolean closed;

  @Override
  public CompletableFuture<Optional<KeyValue>> get(String key) {
    return answer(
        key, () -> Optional.ofNullable(entries.get(key)).map(value -> new KeyValue(key, value)));
  }

  @Override
  public CompletableFuture<Void> set(String key, String value) {
    return answer(
        key,
        () -> {
          entries.put(key, Keys.requireValue(value));
          return null;
        });
  }

  @Override
  public CompletableFuture<Void> checkHealth() {
    return closed
        ? CompletableFuture.failedFuture(closedError())
        : CompletableFuture.completedFuture(null);
  }

  /** Runs {@code operation} at once, turning a rejected request into a failed future. */
  private <T> CompletableFuture<T> answer(String key, Supplier<T> operation) {
    try {
      if (closed) {
        throw closedError();
      }
      Keys.requireValid(key);
      return CompletableFuture.completedFuture(operation.get());
    } catch (KvException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static KvException closedError() {
    return new KvException(KvException.Code.UNAVAILABLE, "the memory store is closed");
  }

  @Override
  public void close() {
    closed = true;
    entries.clear();
  }
}
