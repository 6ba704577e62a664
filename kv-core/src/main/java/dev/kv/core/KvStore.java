package dev.kv.core;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The storage port: what every kv store offers, whatever keeps the data.
 *
 * <p>Every method is asynchronous and never throws: failures arrive through the returned future as
 * a {@link KvException}, whose {@link KvException.Code} tells the caller what went wrong.
 * Implementations are thread-safe. Keys are compared as Java strings, in their natural order.
 *
 * <p>For code that prefers to wait, {@link #blocking()} gives a synchronous view of the same store.
 */
public interface KvStore extends AutoCloseable {

  /**
   * Reads the entry stored under {@code key}.
   *
   * @return the entry, or an empty optional when the key does not exist; fails with {@link
   *     KvException.Code#INVALID_ARGUMENT} for an empty key
   */
  CompletableFuture<Optional<KeyValue>> get(String key);

  /**
   * Stores {@code value} under {@code key}, replacing any previous value. The future completes once
   * the write is visible to every later {@link #get}.
   *
   * @return a future that fails with {@link KvException.Code#INVALID_ARGUMENT} for an empty key
   */
  CompletableFuture<Void> set(String key, String value);

  /**
   * Checks that the store can serve requests now, for health checks. Cheap enough to call every
   * second.
   *
   * @return a future that completes when the store answers, and fails with {@link
   *     KvException.Code#UNAVAILABLE} or {@link KvException.Code#DEADLINE_EXCEEDED} when it does
   *     not
   */
  CompletableFuture<Void> checkHealth();

  /** A synchronous view of this store, for callers that prefer to wait for each answer. */
  default BlockingKvStore blocking() {
    return new BlockingKvStore(this);
  }

  /** Releases what the store holds (connections, files). Calls made afterwards fail. */
  @Override
  void close();
}
