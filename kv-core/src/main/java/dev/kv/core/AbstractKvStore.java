package dev.kv.core;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The base of a store: it checks the arguments of every call by the rules all stores share ({@link
 * Keys}, {@link Ttl}) before the store sees them, and words the refusals of a closed store, so that
 * every store answers the same request the same way and a new one cannot forget a rule. A request
 * that breaks a rule fails with {@link KvException.Code#INVALID_ARGUMENT} without reaching the
 * store.
 *
 * <p>Queries ({@link ListQuery}, {@link WatchQuery}) check themselves when they are made.
 */
public abstract class AbstractKvStore implements KvStore {

  private final String name;

  /**
   * @param name what the store is, as a person reads it in an error: {@code the memory store},
   *     {@code the client of etcd at http://127.0.0.1:2379}
   */
  protected AbstractKvStore(String name) {
    this.name = Objects.requireNonNull(name, "name");
  }

  @Override
  public final CompletableFuture<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
    return checked(() -> Keys.requireValid(key), () -> doGet(key, consistency));
  }

  @Override
  public final CompletableFuture<Long> set(String key, String value, Duration ttl) {
    return checked(
        () -> {
          Keys.requireValid(key);
          Keys.requireValue(value);
          Ttl.seconds(ttl);
        },
        () -> doSet(key, value, Ttl.seconds(ttl)));
  }

  @Override
  public final CompletableFuture<Swap> setIf(
      String key, String value, long expectedModRevision, Duration ttl) {
    return checked(
        () -> {
          Keys.requireValid(key);
          Keys.requireValue(value);
          Keys.requireRevision(expectedModRevision);
          Ttl.seconds(ttl);
        },
        () -> doSetIf(key, value, expectedModRevision, Ttl.seconds(ttl)));
  }

  @Override
  public final CompletableFuture<Swap> deleteIf(String key, long expectedModRevision) {
    return checked(
        () -> {
          Keys.requireValid(key);
          Keys.requireExistingRevision(expectedModRevision);
        },
        () -> doDeleteIf(key, expectedModRevision));
  }

  @Override
  public final CompletableFuture<Deleted> delete(String key) {
    return checked(() -> Keys.requireValid(key), () -> doDelete(key));
  }

  @Override
  public final CompletableFuture<Deleted> deletePrefix(String prefix) {
    return checked(() -> Keys.requireDeletablePrefix(prefix), () -> doDeletePrefix(prefix));
  }

  /** {@link #get(String, ReadConsistency)}, with a valid key. */
  protected abstract CompletableFuture<Optional<KeyValue>> doGet(
      String key, ReadConsistency consistency);

  /**
   * {@link #set(String, String, Duration)}, with a valid key and value.
   *
   * @param ttlSeconds the time to live in whole seconds, 0 for none
   */
  protected abstract CompletableFuture<Long> doSet(String key, String value, long ttlSeconds);

  /**
   * {@link #setIf(String, String, long, Duration)}, with a valid key, value and revision.
   *
   * @param ttlSeconds the time to live in whole seconds, 0 for none
   */
  protected abstract CompletableFuture<Swap> doSetIf(
      String key, String value, long expectedModRevision, long ttlSeconds);

  /** {@link #deleteIf(String, long)}, with a valid key and an existing revision. */
  protected abstract CompletableFuture<Swap> doDeleteIf(String key, long expectedModRevision);

  /** {@link #delete(String)}, with a valid key. */
  protected abstract CompletableFuture<Deleted> doDelete(String key);

  /** {@link #deletePrefix(String)}, with a prefix that may be deleted (not empty). */
  protected abstract CompletableFuture<Deleted> doDeletePrefix(String prefix);

  /** What a call to this store, or a watch on it, fails with once it is closed. */
  protected final KvException closedError() {
    return closedError(name);
  }

  /** The failure of a call to the store called {@code name} once it is closed. */
  public static KvException closedError(String name) {
    return new KvException(KvException.Code.UNAVAILABLE, name + " is closed");
  }

  @Override
  public String toString() {
    return name;
  }

  /** The call, or the failure of {@code check} without making it. */
  private static <T> CompletableFuture<T> checked(
      Runnable check, Supplier<CompletableFuture<T>> call) {
    try {
      check.run();
    } catch (KvException e) {
      return CompletableFuture.failedFuture(e);
    }
    return call.get();
  }
}
