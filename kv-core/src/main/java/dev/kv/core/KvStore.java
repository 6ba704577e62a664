package dev.kv.core;

import java.io.OutputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The storage port: what every kv store offers, whatever keeps the data.
 *
 * <p>Every method is asynchronous and never throws: failures arrive through the returned future as
 * a {@link KvException}, whose {@link KvException.Code} tells the caller what went wrong.
 * Implementations are thread-safe. Keys are ordered by {@link Keys#ORDER}, etcd's order.
 *
 * <p>Every method but {@link #close} returns without waiting: not for a disk, the network, or a
 * lock held across either. A call only starts the work that waits, on the store's own threads, so
 * that a caller whose threads must never wait, such as a server on its network threads, may call
 * the store on them. A future may complete on the caller's thread or on one of the store's.
 *
 * <p>Every write advances the store's revision, a number that only grows; each entry carries the
 * revisions that created and last changed it. A store may apply concurrent writes of distinct keys
 * together, at one revision, as the etcd store does: each of them is answered with that revision,
 * revisions still only grow, and a watch delivers the changes of one revision in order, before
 * those of the next. A write answered before another starts always has the lower revision.
 *
 * <p>For code that prefers to wait, {@link #blocking()} gives a synchronous view of the same store.
 */
public interface KvStore extends AutoCloseable {

  /**
   * Reads the entry stored under {@code key}, seeing every write acknowledged before.
   *
   * @return the entry, or an empty optional when the key does not exist; fails with {@link
   *     KvException.Code#INVALID_ARGUMENT} for an empty key
   */
  default CompletableFuture<Optional<KeyValue>> get(String key) {
    return get(key, ReadConsistency.LINEARIZABLE);
  }

  /** Reads the entry stored under {@code key}, as up to date as {@code consistency} asks. */
  CompletableFuture<Optional<KeyValue>> get(String key, ReadConsistency consistency);

  /**
   * Stores {@code value} under {@code key}, replacing any previous value. The future completes once
   * the write is visible to every later {@link #get}.
   *
   * @return the store revision the write created; fails with {@link
   *     KvException.Code#INVALID_ARGUMENT} for an empty key
   */
  default CompletableFuture<Long> set(String key, String value) {
    return set(key, value, Ttl.NONE);
  }

  /**
   * Stores {@code value} under {@code key} for {@code ttl}: the key is deleted once it expires (a
   * later write without a time to live keeps it). {@link Ttl#NONE} keeps it until deleted. Times to
   * live are whole seconds, rounded up; etcd may lengthen very short ones (to about 2 seconds).
   *
   * @return the store revision the write created; fails with {@link
   *     KvException.Code#INVALID_ARGUMENT} for a negative time to live or one beyond {@link
   *     Ttl#MAX}
   */
  CompletableFuture<Long> set(String key, String value, Duration ttl);

  /**
   * Stores {@code value} under {@code key} only if the key's modification revision is {@code
   * expectedModRevision} now, or only if the key does not exist when it is {@link Swap#ABSENT}:
   * compare-and-set, for safe concurrent updates. Of writers racing with the same expected
   * revision, exactly one applies.
   *
   * @return whether it applied, and otherwise the entry as it is now
   */
  default CompletableFuture<Swap> setIf(String key, String value, long expectedModRevision) {
    return setIf(key, value, expectedModRevision, Ttl.NONE);
  }

  /**
   * {@link #setIf(String, String, long)}, with a time to live as {@link #set(String, String,
   * Duration)} takes.
   */
  CompletableFuture<Swap> setIf(String key, String value, long expectedModRevision, Duration ttl);

  /**
   * Deletes {@code key} only if its modification revision is {@code expectedModRevision} now.
   *
   * @return whether it applied, and otherwise the entry as it is now
   */
  CompletableFuture<Swap> deleteIf(String key, long expectedModRevision);

  /**
   * Deletes {@code key}.
   *
   * @return how many keys were deleted (0 or 1), and the store revision after
   */
  CompletableFuture<Deleted> delete(String key);

  /**
   * Deletes every key that starts with {@code prefix}.
   *
   * @return how many keys were deleted, and the store revision after; fails with {@link
   *     KvException.Code#INVALID_ARGUMENT} for an empty prefix, which would delete everything
   */
  CompletableFuture<Deleted> deletePrefix(String prefix);

  /**
   * Lists the keys {@code query} selects, a page at a time, in key order. A page holds at most the
   * query's {@link ListQuery#limit} keys and {@link ListQuery#maxBytes} bytes of keys and values (4
   * MiB by default), and at least one entry, however large, so that a listing always progresses:
   * its memory is bounded whatever the values weigh.
   */
  CompletableFuture<Page> list(ListQuery query);

  /**
   * Watches the keys {@code query} selects: {@code listener} gets every put and delete (expiries
   * included) with its revision, in order, from {@code query.startRevision()} when given, so that a
   * client that reconnects misses nothing. A watch keeps going across the store's own failures (on
   * etcd, the loss of the member it uses) until it is closed.
   */
  Watch watch(WatchQuery query, WatchListener listener);

  /**
   * Checks that the store can serve requests now, for health checks. Cheap enough to call every
   * second.
   *
   * @return a future that completes when the store answers, and fails with {@link
   *     KvException.Code#UNAVAILABLE} or {@link KvException.Code#DEADLINE_EXCEEDED} when it does
   *     not
   */
  CompletableFuture<Void> checkHealth();

  /**
   * What the store says of itself, for an operator: its kind and current revision, and what it
   * knows more (etcd's members, a read cache, the kv-server in between). On etcd, a member that
   * does not answer is listed with its error rather than failing the call.
   */
  default CompletableFuture<StoreStatus> status() {
    return StoreStatus.read(toString(), this);
  }

  /**
   * Writes a snapshot of the whole store to {@code out}, taken while the store keeps serving reads
   * and writes: the file that restores it exactly ({@link SnapshotInfo#format} says which tool
   * reads it). Writing happens on a thread of the store's own, which may wait for {@code out}; the
   * caller's thread never does. {@code out} is flushed, not closed.
   *
   * @return what the snapshot holds, once it is written whole; fails with {@link
   *     KvException.Code#FAILED_PRECONDITION} on a store that has no snapshot (the memory store:
   *     {@link ListQuery#atRevision} reads any store at one revision), and with the error of {@code
   *     out} when writing to it fails
   */
  default CompletableFuture<SnapshotInfo> snapshot(OutputStream out) {
    return CompletableFuture.failedFuture(
        new KvException(
            KvException.Code.FAILED_PRECONDITION,
            this + " takes no snapshot; export its keys instead (kv export)"));
  }

  /** A synchronous view of this store, for callers that prefer to wait for each answer. */
  default BlockingKvStore blocking() {
    return new BlockingKvStore(this);
  }

  /**
   * Releases what the store holds (connections, files), and may wait for the work under way. Calls
   * made afterwards fail.
   */
  @Override
  void close();
}
