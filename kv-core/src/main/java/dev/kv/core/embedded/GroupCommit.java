package dev.kv.core.embedded;

import dev.kv.core.KvException;
import dev.kv.core.local.LocalWatches;
import dev.kv.core.local.Threads;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import org.rocksdb.ReadTier;
import org.rocksdb.RocksDBException;

/**
 * The embedded store's writer. One thread applies the writes in order; the writes that arrive while
 * one batch goes to disk go together in the next, with one sync for all of them. Each batch also
 * deletes the keys whose time ran out and trims the history; once it is durable, its changes are
 * published to the watches, and then its writes are acknowledged, off the writer's thread.
 *
 * <p>Whoever submits keeps submissions and {@link #close} from racing: none may come after it.
 */
final class GroupCommit {

  /** The most writes that share one sync. */
  static final int MAX_BATCH = 1_000;

  /** How long expiries wait after a write failed, before they are tried again. */
  private static final long FAILED_WRITE_PAUSE_MILLIS = 1_000;

  /** A change to apply in a batch. */
  interface Change<T> {
    T apply(Batch batch) throws RocksDBException;
  }

  private final Database database;
  private final int historyLimit;
  private final LocalWatches watches;
  private final EmbeddedMetrics metrics;
  private final BlockingQueue<Write<?>> queue = new LinkedBlockingQueue<>();
  private final Thread writer;
  private final ExecutorService acknowledgements =
      Executors.newSingleThreadExecutor(Threads.daemon("kv-embedded-ack"));

  /** Keeps publishing and opening watches from racing. */
  private final Object publishing = new Object();

  /** The revision of the last batch published; under {@link #publishing}. */
  private long revision;

  /** The oldest revision whose changes are kept; under {@link #publishing}. */
  private long firstKept;

  /** When the next key expires, in epoch milliseconds; the writer's alone. */
  private long nextExpiry;

  private volatile KvException lastWriteFailure;

  /**
   * Deletes the keys whose time ran out while the store was closed, before anyone reads them, then
   * starts the writer.
   *
   * @throws KvException when they cannot be deleted
   * @throws RocksDBException when the revisions cannot be read
   */
  GroupCommit(Database database, int historyLimit, LocalWatches watches, EmbeddedMetrics metrics)
      throws RocksDBException {
    this.database = database;
    this.historyLimit = historyLimit;
    this.watches = watches;
    this.metrics = metrics;
    SnapshotReader reader = new SnapshotReader(database);
    this.revision = reader.revision(ReadTier.READ_ALL_TIER);
    this.firstKept = reader.firstKept();
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

  /** Queues {@code change} for the next batch; the future completes once it is durable. */
  <T> CompletableFuture<T> submit(Change<T> change) {
    Write<T> write = new Write<>(change);
    queue.add(write);
    return write.result;
  }

  /** Whether the last batch failed to go to disk. */
  boolean failing() {
    return lastWriteFailure != null;
  }

  /**
   * Answers {@code action} of the revision of the last batch published, while no other batch is
   * published: a watch opened there gets every later change exactly once.
   */
  <T> T atPublishedRevision(LongFunction<T> action) {
    synchronized (publishing) {
      return action.apply(revision);
    }
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
    long start = System.nanoTime();
    try (Batch batch = new Batch(database, revision, firstKept)) {
      for (Write<?> write : writes) {
        write.apply(batch);
      }
      long now = System.currentTimeMillis();
      long next = nextExpiry;
      if (now >= nextExpiry) {
        next = batch.expire(now, MAX_BATCH);
      }
      batch.trimHistory(historyLimit);
      batch.commit();
      metrics.committed(writes.size(), System.nanoTime() - start);
      lastWriteFailure = null;
      nextExpiry = Math.min(next, batch.earliestExpiry());
      synchronized (publishing) {
        revision = batch.revision();
        firstKept = batch.firstKept();
        batch.events().forEach(watches::publish);
      }
      acknowledge(writes, null);
    } catch (RocksDBException | RuntimeException | Error e) {
      // Caught whatever it is: a writer that died would leave every later write waiting.
      KvException failure =
          e instanceof KvException known
              ? known // such as data the batch had to read and could not
              : new KvException(
                  KvException.Code.UNAVAILABLE,
                  "cannot write to the data directory " + database.path() + ": " + e.getMessage(),
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

  /**
   * Commits and acknowledges the writes already submitted, then stops the writer; pending
   * acknowledgements still run, and none touches the database.
   */
  void close() {
    queue.add(STOP);
    awaitWriter();
    acknowledgements.shutdown();
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
