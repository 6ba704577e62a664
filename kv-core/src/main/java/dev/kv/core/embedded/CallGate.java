package dev.kv.core.embedded;

import dev.kv.core.KvException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.rocksdb.ReadTier;
import org.rocksdb.RocksDBException;

/**
 * Lets the embedded store's calls reach its database while it is open, and never makes their
 * callers wait: not for the disk, not for a close.
 *
 * <p>A read is tried first from memory alone (the write buffers and RocksDB's block cache) on the
 * caller's thread, where it answers in about a microsecond, far less than a hop to another thread
 * costs. Only a read that needs the disk runs again, on a pool of the store's own.
 *
 * <p>Calls hold a lock shared while they use the database, and {@link #close} holds it alone: so
 * none runs on a closed database. Calls only try the lock, and fail as closed rather than wait.
 */
final class CallGate {

  /** A read that looks as far as {@code tier} (see {@link SnapshotReader}). */
  interface Reading<T> {
    T read(ReadTier tier) throws RocksDBException;
  }

  private final SnapshotReader reader;
  private final ExecutorService diskReads;
  private final Supplier<KvException> closedError;
  private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private boolean closed;

  /**
   * @param diskReads the pool for reads that need the disk, shut down on close
   * @param closedError what calls fail with once the store is closed
   */
  CallGate(SnapshotReader reader, ExecutorService diskReads, Supplier<KvException> closedError) {
    this.reader = reader;
    this.diskReads = diskReads;
    this.closedError = closedError;
  }

  /** Reads from memory on the caller's thread, or if that needs the disk, on the pool. */
  <T> CompletableFuture<T> read(Reading<T> reading) {
    try {
      return CompletableFuture.completedFuture(readWhileOpen(reading, ReadTier.BLOCK_CACHE_TIER));
    } catch (Exception e) {
      if (!Database.neededDisk(e)) {
        return CompletableFuture.failedFuture(failure(e));
      }
    }
    return onPool(reading);
  }

  /** Reads on the pool, where waiting for the disk holds up no caller. */
  <T> CompletableFuture<T> onPool(Reading<T> reading) {
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      diskReads.execute(
          () -> {
            T value;
            try {
              value = readWhileOpen(reading, ReadTier.READ_ALL_TIER);
            } catch (Exception e) {
              result.completeExceptionally(failure(e));
              return;
            }
            // Out of the lock: a callback may close the store.
            result.complete(value);
          });
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(closedError.get());
    }
    return result;
  }

  /** {@code call} while the store is open; otherwise {@code whenClosed}, out of the lock. */
  <T> T whileOpen(Supplier<T> call, Supplier<T> whenClosed) {
    if (!enter()) {
      return whenClosed.get();
    }
    try {
      return call.get();
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private <T> T readWhileOpen(Reading<T> reading, ReadTier tier) throws RocksDBException {
    if (!enter()) {
      throw closedError.get();
    }
    try {
      return reading.read(tier);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** Takes the lock shared if the store is open and not closing; then the caller unlocks it. */
  private boolean enter() {
    if (!lifecycle.readLock().tryLock()) {
      return false;
    }
    if (closed) {
      lifecycle.readLock().unlock();
      return false;
    }
    return true;
  }

  /** The error of a failed read: an unchecked one as it is (see {@link RocksDbLibrary}). */
  private RuntimeException failure(Exception e) {
    return e instanceof RuntimeException unchecked ? unchecked : reader.failure(e);
  }

  /**
   * Closes the gate once the calls under way are done; later ones fail as closed.
   *
   * @return whether it was open
   */
  boolean close() {
    lifecycle.writeLock().lock();
    try {
      if (closed) {
        return false;
      }
      closed = true;
    } finally {
      lifecycle.writeLock().unlock();
    }
    diskReads.shutdown();
    return true;
  }
}
