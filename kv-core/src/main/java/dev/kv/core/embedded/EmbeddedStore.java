package dev.kv.core.embedded;

import dev.kv.core.AbstractKvStore;
import dev.kv.core.Deleted;
import dev.kv.core.KeyValue;
import dev.kv.core.Keys;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.ReadConsistency;
import dev.kv.core.Swap;
import dev.kv.core.Watch;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.embedded.GroupCommit.Change;
import dev.kv.core.local.CompareAndSet;
import dev.kv.core.local.History;
import dev.kv.core.local.LocalWatches;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.rocksdb.RocksDBException;

/**
 * A store that keeps its entries on this machine's disk, in a data directory, with RocksDB: durable
 * without a cluster, for one process at a time.
 *
 * <p>A write is acknowledged only once it is forced to disk, so that it survives a crash of the
 * process or of the machine. One thread applies the writes in order; the writes that arrive while
 * one batch goes to disk go together in the next, with one sync for all of them. Readers see a
 * write only once it is durable.
 *
 * <p>Times to live follow the clock: a key whose time ran out while no process had the store open
 * is gone when it opens. The store keeps the changes of its last {@link Builder#historyLimit}
 * revisions for watches that start in the past.
 *
 * <p>Damaged files are an error, never a short answer: a read that meets one fails with {@link
 * KvException.Code#DATA_LOSS}, and a directory whose write-ahead log lost acknowledged writes is
 * refused at open (see {@link Builder#salvage}).
 */
public final class EmbeddedStore extends AbstractKvStore {

  private final DataDirectory dir;
  private final SnapshotReader reader;
  private final LocalWatches watches = new LocalWatches("kv-embedded-watch");
  private final GroupCommit writer;

  /** Readers and writers hold it shared; closing holds it alone, so none runs on a closed db. */
  private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();

  private boolean closed;

  private final Object closing = new Object();

  private EmbeddedStore(DataDirectory dir, int historyLimit) throws RocksDBException {
    super("the embedded store");
    this.dir = dir;
    this.reader = new SnapshotReader(dir.database());
    this.writer = new GroupCommit(dir.database(), historyLimit, watches);
  }

  /** Opens the store in {@code dataDir}, making it if it does not exist; see {@link Builder}. */
  public static EmbeddedStore open(Path dataDir) {
    return builder().dataDir(dataDir).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** How to open an embedded store. */
  public static final class Builder {
    private Path dataDir;
    private int historyLimit = 10_000;
    private boolean salvage;

    private Builder() {}

    /**
     * The directory that holds the data: made if it does not exist; otherwise it must be empty or a
     * data directory of this store.
     */
    public Builder dataDir(Path dataDir) {
      this.dataDir = dataDir;
      return this;
    }

    /**
     * How many of the latest revisions keep their changes, for watches that start in the past
     * (10,000 unless set). A watch from an older revision fails with {@link
     * KvException.Code#OUT_OF_RANGE}.
     */
    public Builder historyLimit(int historyLimit) {
      this.historyLimit = History.requireLimit(historyLimit);
      return this;
    }

    /**
     * Opens a data directory whose write-ahead log is damaged with what can be read of it, rather
     * than refusing it: the writes the damage hides are lost. The log files as they were are kept
     * in the directory's {@code salvaged/}, and what happened is logged. A whole directory opens as
     * usual. For one open after a refusal, never as a habit.
     */
    public Builder salvage(boolean salvage) {
      this.salvage = salvage;
      return this;
    }

    /**
     * Opens the store.
     *
     * @throws KvException with {@link KvException.Code#FAILED_PRECONDITION} and a message that says
     *     why when the directory is in use by another process, is not a data directory of this
     *     store, is damaged, or cannot be read or written; with {@link KvException.Code#DATA_LOSS}
     *     when what it must read to open (expiries due, history to trim) cannot be read back
     */
    public EmbeddedStore build() {
      if (dataDir == null) {
        throw new IllegalArgumentException("an embedded store needs a data directory");
      }
      RocksDbLibrary.require();
      DataDirectory opened = DataDirectory.open(dataDir, salvage);
      try {
        return new EmbeddedStore(opened, historyLimit);
      } catch (Exception e) { // RocksDBException or unchecked; see RocksDbLibrary
        opened.close();
        if (e instanceof KvException damaged && damaged.code() == KvException.Code.DATA_LOSS) {
          throw damaged;
        }
        throw new KvException(
            KvException.Code.FAILED_PRECONDITION,
            "cannot open the data directory " + opened.path() + ": " + e.getMessage(),
            e);
      }
    }
  }

  /** The directory this store keeps its data in. */
  public Path dataDir() {
    return dir.path();
  }

  // Reads: on the caller's thread (see SnapshotReader).

  @Override
  protected CompletableFuture<Optional<KeyValue>> doGet(String key, ReadConsistency consistency) {
    return read(() -> reader.get(key));
  }

  @Override
  public CompletableFuture<Page> list(ListQuery query) {
    return read(() -> reader.list(query));
  }

  // Writes: applied in order on the writer's thread.

  @Override
  protected CompletableFuture<Long> doSet(String key, String value, long ttlSeconds) {
    return write(batch -> batch.put(key, value, expiresAt(ttlSeconds)));
  }

  @Override
  protected CompletableFuture<Swap> doSetIf(
      String key, String value, long expectedModRevision, long ttlSeconds) {
    return swap(key, expectedModRevision, batch -> batch.put(key, value, expiresAt(ttlSeconds)));
  }

  @Override
  protected CompletableFuture<Swap> doDeleteIf(String key, long expectedModRevision) {
    return swap(key, expectedModRevision, batch -> batch.delete(List.of(key)).revision());
  }

  /** Applies {@code write} if the key has the expected revision: see {@link CompareAndSet}. */
  private CompletableFuture<Swap> swap(String key, long expectedModRevision, Change<Long> write) {
    return write(
        batch ->
            CompareAndSet.swap(
                batch.entry(key), expectedModRevision, batch.revision(), () -> write.apply(batch)));
  }

  @Override
  protected CompletableFuture<Deleted> doDelete(String key) {
    return write(batch -> batch.delete(List.of(key)));
  }

  @Override
  protected CompletableFuture<Deleted> doDeletePrefix(String prefix) {
    return write(batch -> batch.delete(batch.keysBetween(prefix, Keys.prefixEnd(prefix))));
  }

  private static long expiresAt(long ttlSeconds) {
    return ttlSeconds == 0 ? 0 : System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(ttlSeconds);
  }

  @Override
  public Watch watch(WatchQuery query, WatchListener listener) {
    lifecycle.readLock().lock();
    try {
      if (!closed) {
        return writer.atPublishedRevision(
            revision -> watches.open(query, listener, revision, () -> reader.history(revision)));
      }
    } finally {
      lifecycle.readLock().unlock();
    }
    // Outside the lock: the listener hears of it at once, and may call close().
    return watches.failed(query, listener, closedError());
  }

  /**
   * Healthy while reads answer and the last write did not fail; after a failed write, the check
   * itself writes (forced to disk), so that health comes back once the disk takes writes again.
   */
  @Override
  public CompletableFuture<Void> checkHealth() {
    if (writer.failing()) {
      return write(
          batch -> {
            batch.touch();
            return null;
          });
    }
    return read(
        () -> {
          reader.revision();
          return null;
        });
  }

  private interface Reading<T> {
    T read() throws RocksDBException;
  }

  private <T> CompletableFuture<T> read(Reading<T> reading) {
    lifecycle.readLock().lock();
    try {
      if (closed) {
        throw closedError();
      }
      return CompletableFuture.completedFuture(reading.read());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    } catch (Exception e) { // RocksDBException; see RocksDbLibrary
      return CompletableFuture.failedFuture(reader.failure(e));
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** Queues {@code change}, for the writer to apply in order. */
  private <T> CompletableFuture<T> write(Change<T> change) {
    lifecycle.readLock().lock();
    try {
      if (closed) {
        return CompletableFuture.failedFuture(closedError());
      }
      return writer.submit(change);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /**
   * Closes the store: the writes already accepted are committed and acknowledged, later ones fail,
   * watches end with {@link KvException.Code#UNAVAILABLE}, and the data directory is released.
   */
  /** Reads and writes the disk on the caller's thread. */
  @Override
  public boolean callsMayBlock() {
    return true;
  }

  @Override
  public void close() {
    // A second close waits for the first: when it returns, the directory is released.
    synchronized (closing) {
      lifecycle.writeLock().lock();
      try {
        if (closed) {
          return;
        }
        closed = true;
      } finally {
        lifecycle.writeLock().unlock();
      }
      writer.close();
      watches.close(closedError());
      dir.close();
    }
  }
}
