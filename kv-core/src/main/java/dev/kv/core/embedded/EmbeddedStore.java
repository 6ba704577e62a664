package dev.kv.core.embedded;

import dev.kv.core.Deleted;
import dev.kv.core.KeyValue;
import dev.kv.core.Keys;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.ReadConsistency;
import dev.kv.core.Swap;
import dev.kv.core.Ttl;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.embedded.Records.Stored;
import dev.kv.core.local.CompareAndSet;
import dev.kv.core.local.LocalWatches;
import dev.kv.core.local.Threads;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;

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
public final class EmbeddedStore implements KvStore {

  /** The most writes that share one sync. */
  private static final int MAX_BATCH = 1_000;

  /** How long expiries wait after a write failed, before they are tried again. */
  private static final long FAILED_WRITE_PAUSE_MILLIS = 1_000;

  private final DataDirectory dir;
  private final int historyLimit;
  private final BlockingQueue<Write<?>> queue = new LinkedBlockingQueue<>();
  private final Thread writer;
  private final ExecutorService acknowledgements =
      Executors.newSingleThreadExecutor(Threads.daemon("kv-embedded-ack"));
  private final LocalWatches watches = new LocalWatches("kv-embedded-watch");

  /** Readers and writers hold it shared; closing holds it alone, so none runs on a closed db. */
  private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();

  private boolean closed;

  private final Object closing = new Object();

  /** Keeps publishing and opening watches from racing. */
  private final Object publishing = new Object();

  /** The revision of the last batch published; under {@link #publishing}. */
  private long revision;

  /** The oldest revision whose changes are kept; under {@link #publishing}. */
  private long firstKept;

  /** When the next key expires, in epoch milliseconds; the writer's alone. */
  private long nextExpiry;

  private volatile KvException lastWriteFailure;

  private EmbeddedStore(DataDirectory dir, int historyLimit) throws RocksDBException {
    this.dir = dir;
    this.historyLimit = historyLimit;
    this.revision = Records.number(dir.db.get(dir.meta, DataDirectory.REVISION_KEY));
    this.firstKept = Records.number(dir.db.get(dir.meta, DataDirectory.FIRST_KEPT_KEY));
    // Keys whose time ran out while the store was closed go before anyone reads them.
    do {
      commit(List.of());
      if (lastWriteFailure != null) {
        throw lastWriteFailure;
      }
    } while (nextExpiry <= System.currentTimeMillis());
    this.writer = new Thread(this::writeLoop, "kv-embedded-writer");
    writer.setDaemon(true);
    writer.start();
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
      if (historyLimit < 1) {
        throw new IllegalArgumentException("historyLimit must be at least 1, not " + historyLimit);
      }
      this.historyLimit = historyLimit;
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
            "cannot open the data directory " + opened.path + ": " + e.getMessage(),
            e);
      }
    }
  }

  /** The directory this store keeps its data in. */
  public Path dataDir() {
    return dir.path;
  }

  // Reads: on the caller's thread, straight from RocksDB, which serves them from memory or the
  // page cache in microseconds; a hop to another thread would cost more than the read.

  @Override
  public CompletableFuture<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
    return read(
        () -> {
          byte[] stored = dir.db.get(dir.entries, Records.utf8(Keys.requireValid(key)));
          return Optional.ofNullable(stored).map(bytes -> Stored.decode(bytes).withKey(key));
        });
  }

  @Override
  public CompletableFuture<Page> list(ListQuery query) {
    return read(
        () -> {
          Snapshot snapshot = dir.db.getSnapshot();
          try (ReadOptions options = new ReadOptions().setSnapshot(snapshot);
              RocksIterator iterator = dir.db.newIterator(dir.entries, options)) {
            long at = Records.number(dir.db.get(dir.meta, options, DataDirectory.REVISION_KEY));
            byte[] end = query.to().isEmpty() ? null : Records.utf8(query.to());
            Page.Builder page = Page.builder(query);
            for (iterator.seek(Records.utf8(query.pageStart()));
                iterator.isValid();
                iterator.next()) {
              if (end != null && Arrays.compareUnsigned(iterator.key(), end) >= 0) {
                break;
              }
              if (!page.add(
                  Stored.decode(iterator.value()).withKey(Records.utf8(iterator.key())))) {
                return page.build(true, at);
              }
            }
            iterator.status(); // a read that failed ends the loop too: never a short page
            return page.build(false, at);
          } finally {
            dir.db.releaseSnapshot(snapshot);
          }
        });
  }

  // Writes: checked on the caller's thread, applied in order on the writer's.

  @Override
  public CompletableFuture<Long> set(String key, String value, Duration ttl) {
    return write(
        () -> {
          Keys.requireValid(key);
          Keys.requireValue(value);
          long ttlSeconds = Ttl.seconds(ttl);
          return batch -> batch.put(key, value, expiresAt(ttlSeconds));
        });
  }

  @Override
  public CompletableFuture<Swap> setIf(
      String key, String value, long expectedModRevision, Duration ttl) {
    return write(
        () -> {
          Keys.requireValid(key);
          Keys.requireValue(value);
          Keys.requireRevision(expectedModRevision);
          long ttlSeconds = Ttl.seconds(ttl);
          return batch ->
              CompareAndSet.swap(
                  batch.entry(key),
                  expectedModRevision,
                  batch.revision(),
                  () -> batch.put(key, value, expiresAt(ttlSeconds)));
        });
  }

  @Override
  public CompletableFuture<Swap> deleteIf(String key, long expectedModRevision) {
    return write(
        () -> {
          Keys.requireValid(key);
          Keys.requireExistingRevision(expectedModRevision);
          return batch ->
              CompareAndSet.swap(
                  batch.entry(key),
                  expectedModRevision,
                  batch.revision(),
                  () -> batch.delete(List.of(key)).revision());
        });
  }

  @Override
  public CompletableFuture<Deleted> delete(String key) {
    return write(
        () -> {
          Keys.requireValid(key);
          return batch -> batch.delete(List.of(key));
        });
  }

  @Override
  public CompletableFuture<Deleted> deletePrefix(String prefix) {
    return write(
        () -> {
          Keys.requireDeletablePrefix(prefix);
          return batch -> batch.delete(batch.keysBetween(prefix, Keys.prefixEnd(prefix)));
        });
  }

  private static long expiresAt(long ttlSeconds) {
    return ttlSeconds == 0 ? 0 : System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(ttlSeconds);
  }

  @Override
  public Watch watch(WatchQuery query, WatchListener listener) {
    lifecycle.readLock().lock();
    try {
      if (!closed) {
        synchronized (publishing) {
          long start = query.startRevision();
          if (start == 0) {
            return watches.open(query, listener, revision + 1, Stream.empty());
          }
          return watchFrom(start, query, listener);
        }
      }
    } finally {
      lifecycle.readLock().unlock();
    }
    // Outside the lock: the listener hears of it at once, and may call close().
    return watches.failed(query, listener, closedError());
  }

  /**
   * Opens a watch that replays the kept changes from {@code start} to the last published revision;
   * under {@link #publishing}, so that the writer publishes every later one to it.
   */
  private Watch watchFrom(long start, WatchQuery query, WatchListener listener) {
    Snapshot snapshot = dir.db.getSnapshot();
    try (ReadOptions options = new ReadOptions().setSnapshot(snapshot);
        RocksIterator iterator = dir.db.newIterator(dir.history, options)) {
      // The snapshot may hold a batch not yet published, which trimmed more: ask it.
      long kept = Records.number(dir.db.get(dir.meta, options, DataDirectory.FIRST_KEPT_KEY));
      if (start < kept) {
        return watches.failed(
            query,
            listener,
            new KvException(
                KvException.Code.OUT_OF_RANGE,
                "revision " + start + " is no longer kept; the oldest available is " + kept));
      }
      List<WatchEvent> past = new ArrayList<>();
      for (iterator.seek(Records.changeKey(start, 0)); iterator.isValid(); iterator.next()) {
        if (Records.revisionOfChange(iterator.key()) > revision) {
          break;
        }
        WatchEvent change = Records.change(iterator.key(), iterator.value());
        if (query.covers(change.entry().key())) {
          past.add(change);
        }
      }
      iterator.status();
      return watches.open(query, listener, start, past.stream());
    } catch (KvException e) {
      return watches.failed(query, listener, e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) { // RocksDBException; see RocksDbLibrary
      return watches.failed(query, listener, readFailure(e));
    } finally {
      dir.db.releaseSnapshot(snapshot);
    }
  }

  /**
   * Healthy while reads answer and the last write did not fail; after a failed write, the check
   * itself writes (forced to disk), so that health comes back once the disk takes writes again.
   */
  @Override
  public CompletableFuture<Void> checkHealth() {
    if (lastWriteFailure != null) {
      return write(
          () ->
              batch -> {
                batch.touch();
                return null;
              });
    }
    return read(
        () -> {
          dir.db.get(dir.meta, DataDirectory.REVISION_KEY);
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
      return CompletableFuture.failedFuture(readFailure(e));
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** A change to apply in a batch. */
  private interface Change<T> {
    T apply(Batch batch) throws RocksDBException;
  }

  /** A write waiting for its batch, and then for the sync. */
  private static final class Write<T> {
    final Change<T> change;
    final CompletableFuture<T> result = new CompletableFuture<>();
    private T outcome;
    private RuntimeException failure;

    Write(Change<T> change) {
      this.change = change;
    }

    /** Applies the change; a failure of its own (a damaged record) fails this write alone. */
    void apply(Batch batch) throws RocksDBException {
      try {
        outcome = change.apply(batch);
      } catch (KvException e) {
        failure = e;
      } catch (RuntimeException e) {
        failure = new KvException(KvException.Code.INTERNAL, "the write failed: " + e, e);
      }
    }

    void acknowledge() {
      if (failure != null) {
        result.completeExceptionally(failure);
      } else {
        result.complete(outcome);
      }
    }
  }

  /**
   * Queues the change that {@code checked} returns once it has checked the request on the caller's
   * thread.
   */
  private <T> CompletableFuture<T> write(Supplier<Change<T>> checked) {
    Write<T> write;
    try {
      write = new Write<>(checked.get());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    lifecycle.readLock().lock();
    try {
      if (closed) {
        return CompletableFuture.failedFuture(closedError());
      }
      queue.add(write);
    } finally {
      lifecycle.readLock().unlock();
    }
    return write.result;
  }

  private static final Write<Void> STOP = new Write<>(batch -> null);

  /** The writer: takes the writes that are waiting, up to a batch, and commits them together. */
  private void writeLoop() {
    List<Write<?>> writes = new ArrayList<>();
    while (true) {
      long wait = Math.max(0, nextExpiry - System.currentTimeMillis());
      if (lastWriteFailure != null) {
        wait = Math.max(wait, FAILED_WRITE_PAUSE_MILLIS); // no busy loop on a failing disk
      }
      Write<?> first;
      try {
        first = queue.poll(wait, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        return;
      }
      writes.clear();
      if (first != null) {
        writes.add(first);
        queue.drainTo(writes, MAX_BATCH - 1);
      }
      boolean stop = writes.remove(STOP);
      commit(List.copyOf(writes));
      if (stop) {
        return;
      }
    }
  }

  /**
   * Applies {@code writes} and the expiries that are due in one batch, forces it to disk, publishes
   * its changes to the watches, and then acknowledges the writes. On the writer's thread.
   */
  private void commit(List<Write<?>> writes) {
    try (Batch batch = new Batch(dir, revision, firstKept)) {
      for (Write<?> write : writes) {
        write.apply(batch);
      }
      long now = System.currentTimeMillis();
      long next = nextExpiry;
      if (now >= nextExpiry) {
        next = batch.expire(now, MAX_BATCH);
      }
      batch.trimHistory(historyLimit);
      batch.commit(dir.sync);
      lastWriteFailure = null;
      nextExpiry = Math.min(next, batch.earliestExpiry());
      synchronized (publishing) {
        revision = batch.revision();
        firstKept = batch.firstKept();
        batch.events().forEach(watches::publish);
      }
      acknowledge(writes, null);
    } catch (Exception | Error e) { // RocksDBException or unchecked; see RocksDbLibrary
      // Caught whatever it is: a writer that died would leave every later write waiting.
      KvException failure =
          e instanceof KvException known
              ? known // such as data the batch had to read and could not
              : new KvException(
                  KvException.Code.UNAVAILABLE,
                  "cannot write to the data directory " + dir.path + ": " + e.getMessage(),
                  e);
      lastWriteFailure = failure;
      acknowledge(writes, failure);
    }
  }

  /** Completes the futures off the writer's thread, so that callers' callbacks never slow it. */
  private void acknowledge(List<Write<?>> writes, KvException failure) {
    if (writes.isEmpty()) {
      return;
    }
    acknowledgements.execute(
        () -> {
          for (Write<?> write : writes) {
            if (failure != null) {
              write.result.completeExceptionally(failure);
            } else {
              write.acknowledge();
            }
          }
        });
  }

  private KvException readFailure(Exception e) {
    if (e instanceof KvException known) {
      return known;
    }
    return dir.readFailure((RocksDBException) e);
  }

  private KvException closedError() {
    return new KvException(KvException.Code.UNAVAILABLE, "the embedded store is closed");
  }

  /**
   * Closes the store: the writes already accepted are committed and acknowledged, later ones fail,
   * watches end with {@link KvException.Code#UNAVAILABLE}, and the data directory is released.
   */
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
      queue.add(STOP);
      awaitWriter();
      // Pending acknowledgements still run; none touches the database.
      acknowledgements.shutdown();
      watches.close(new KvException(KvException.Code.UNAVAILABLE, "the embedded store was closed"));
      dir.close();
    }
  }

  /** Waits for the writer to finish, even if interrupted: the database must outlive it. */
  private void awaitWriter() {
    boolean interrupted = false;
    while (writer.isAlive()) {
      try {
        writer.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
