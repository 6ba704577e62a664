package dev.kv.core;

import dev.kv.core.StoreOperations.Operation;
import io.micrometer.core.instrument.MeterRegistry;
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
 *
 * <p>Given a registry, it also measures every call, refusals included: the timer {@code
 * kv.store.operations}, tagged {@code store} (the store's kind), {@code operation} ({@code get},
 * {@code set}, {@code set_if}, {@code delete_if}, {@code delete}, {@code delete_prefix}, {@code
 * list}) and {@code code} ({@code OK}, or the {@link KvException.Code} the call failed with). A
 * missing key is an answer: a {@code get} of it is {@code OK}. Without a registry nothing is
 * measured.
 */
public abstract class AbstractKvStore implements KvStore {

  private final String name;

  /** Null when the store has no registry. */
  private final StoreOperations operations;

  /**
   * A store that measures nothing.
   *
   * @param name what the store is, as a person reads it in an error: {@code the memory store},
   *     {@code the client of etcd at http://127.0.0.1:2379}
   */
  protected AbstractKvStore(String name) {
    this(name, null, null);
  }

  /**
   * A store that measures its calls in {@code metrics}, when given one.
   *
   * @param kind the store's kind, as the {@code store} tag says it: {@code memory}, {@code etcd}
   * @param metrics where to measure; null for nowhere
   */
  protected AbstractKvStore(String name, String kind, MeterRegistry metrics) {
    this.name = Objects.requireNonNull(name, "name");
    this.operations =
        metrics == null ? null : new StoreOperations(metrics, Objects.requireNonNull(kind, "kind"));
  }

  @Override
  public final CompletableFuture<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
    return checked(Operation.GET, () -> Keys.requireValid(key), () -> doGet(key, consistency));
  }

  @Override
  public final CompletableFuture<Long> set(String key, String value, Duration ttl) {
    return checked(
        Operation.SET,
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
        Operation.SET_IF,
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
        Operation.DELETE_IF,
        () -> {
          Keys.requireValid(key);
          Keys.requireExistingRevision(expectedModRevision);
        },
        () -> doDeleteIf(key, expectedModRevision));
  }

  @Override
  public final CompletableFuture<Deleted> delete(String key) {
    return checked(Operation.DELETE, () -> Keys.requireValid(key), () -> doDelete(key));
  }

  @Override
  public final CompletableFuture<Deleted> deletePrefix(String prefix) {
    return checked(
        Operation.DELETE_PREFIX,
        () -> Keys.requireDeletablePrefix(prefix),
        () -> doDeletePrefix(prefix));
  }

  @Override
  public final CompletableFuture<Page> list(ListQuery query) {
    return checked(Operation.LIST, () -> {}, () -> doList(query));
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

  /** {@link #list(ListQuery)}; the query checked itself when it was made. */
  protected abstract CompletableFuture<Page> doList(ListQuery query);

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

  /** The call, or the failure of {@code check} without making it; measured if asked. */
  private <T> CompletableFuture<T> checked(
      Operation operation, Runnable check, Supplier<CompletableFuture<T>> call) {
    if (operations == null) {
      return checkedCall(check, call);
    }
    long start = System.nanoTime();
    return operations.measure(operation, start, checkedCall(check, call));
  }

  private static <T> CompletableFuture<T> checkedCall(
      Runnable check, Supplier<CompletableFuture<T>> call) {
    try {
      check.run();
    } catch (KvException e) {
      return CompletableFuture.failedFuture(e);
    }
    return call.get();
  }
}
