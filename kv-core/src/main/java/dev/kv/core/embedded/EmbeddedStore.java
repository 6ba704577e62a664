package dev.kv.core.embedded;

import dev.kv.core.AbstractKvStore;
import dev.kv.core.Deleted;
import dev.kv.core.KeyValue;
import dev.kv.core.Keys;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.ReadConsistency;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.StoreStatus;
import dev.kv.core.Swap;
import dev.kv.core.Watch;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.embedded.GroupCommit.Change;
import dev.kv.core.local.CompareAndSet;
import dev.kv.core.local.History;
import dev.kv.core.local.LocalWatches;
import dev.kv.core.local.Pins;
import dev.kv.core.local.Threads;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
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
 * <p>No call waits for the disk on its caller's thread. A read answers there when memory holds what
 * it needs (the write buffers and RocksDB's block cache), in about a microsecond, less than a hop
 * to another thread costs; a read that needs the disk, and a watch that starts in the past, go to a
 * pool of the store's own.
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
  private final CallGate gate;
  private final EmbeddedMetrics metrics;
  private final ExecutorService snapshots = Threads.pool("kv-embedded-snapshot", 1);

  private final Object closing = new Object();

  private EmbeddedStore(
      DataDirectory dir,
      int historyLimit,
      ExecutorService diskReads,
      MeterRegistry registry,
      Duration listingLease)
      throws RocksDBException {
    super("the embedded store", "embedded", registry);
    this.dir = dir;
    this.reader = new SnapshotReader(dir.database(), listingLease);
    this.metrics = EmbeddedMetrics.of(registry);
    this.writer = new GroupCommit(dir.database(), historyLimit, watches, metrics);
    this.gate = new CallGate(reader, diskReads, this::closedError);
    metrics.opened(dir.database());
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
    private ExecutorService diskReads;
    private MeterRegistry metrics;
    private Duration listingLease = Pins.LEASE;

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
     * Where to measure the store: its operations (see {@link AbstractKvStore}), its group commits
     * ({@code kv.embedded.commit.batch.size}, {@code kv.embedded.writes}) and, as gauges read when
     * the registry is scraped, the data directory's size on disk ({@code kv.embedded.disk.size}),
     * RocksDB's pending compaction ({@code kv.embedded.pending.compaction}) and whether it holds
     * writes back ({@code kv.embedded.write.stalls}, 1 or 0). Null, the default, for nowhere.
     */
    public Builder metrics(MeterRegistry metrics) {
      this.metrics = metrics;
      return this;
    }

    /** For tests: the pool that reads what memory does not hold; the store shuts it down. */
    Builder diskReads(ExecutorService diskReads) {
      this.diskReads = diskReads;
      return this;
    }

    /** For tests: how long a listing's snapshot stays readable after its last page. */
    Builder listingLease(Duration listingLease) {
      this.listingLease = listingLease;
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
      // More threads than processors: reads of different blocks wait for the disk together.
      ExecutorService pool =
          diskReads != null
              ? diskReads
              : Threads.pool("kv-embedded-read", Math.max(8, 4 * Threads.processors()));
      try {
        return new EmbeddedStore(opened, historyLimit, pool, metrics, listingLease);
      } catch (Exception e) { // RocksDBException or unchecked; see RocksDbLibrary
        opened.close();
        pool.shutdown();
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

  // Reads: on the caller's thread from memory, else on the pool (see read).

  @Override
  protected CompletableFuture<Optional<KeyValue>> doGet(String key, ReadConsistency consistency) {
    return gate.read(tier -> reader.get(key, tier));
  }

  @Override
  protected CompletableFuture<Page> doList(ListQuery query) {
    return gate.read(tier -> reader.list(query, tier));
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
    if (query.startRevision() == 0) {
      // Outside the lock when closed: the listener hears of it at once, and may call close().
      return gate.whileOpen(
          () -> openWatch(query, listener), () -> watches.failed(query, listener, closedError()));
    }
    // One from the past reads its history first, which may need the disk. It reports its own
    // failures, so the future fails only when the store is closed.
    return new OpeningWatch(
        gate.onPool(tier -> openWatch(query, listener))
            .exceptionally(closed -> watches.failed(query, listener, closedError())));
  }

  private Watch openWatch(WatchQuery query, WatchListener listener) {
    return writer.atPublishedRevision(
        revision -> watches.open(query, listener, revision, () -> reader.history(revision)));
  }

  /**
   * Healthy while reads answer and the last write did not fail; after a failed write, the check
   * itself writes (forced to disk), so that health comes back once the disk takes writes again.
   */
  @Override
  public CompletableFuture<StoreStatus> status() {
    return StoreStatus.read("embedded", this);
  }

  @Override
  public CompletableFuture<Void> checkHealth() {
    if (writer.failing()) {
      return write(
          batch -> {
            batch.touch();
            return null;
          });
    }
    return gate.read(
        tier -> {
          reader.revision(tier);
          return null;
        });
  }

  /**
   * Takes a RocksDB checkpoint of the database while writes go on (see {@link Checkpoints}), and
   * writes it to {@code out} as one file that {@link EmbeddedSnapshots#restore} reads: all on a
   * thread of the snapshots' own, which may wait for {@code out}; one snapshot at a time, the next
   * waiting its turn. The revision is the one the checkpoint holds.
   */
  @Override
  public CompletableFuture<SnapshotInfo> snapshot(OutputStream out) {
    CompletableFuture<SnapshotInfo> written = new CompletableFuture<>();
    try {
      snapshots.execute(
          () -> {
            try {
              Path checkpoint =
                  gate.whileOpen(
                      () -> Checkpoints.take(dir.path(), dir.database()),
                      () -> {
                        throw closedError();
                      });
              written.complete(Checkpoints.write(checkpoint, out));
            } catch (RuntimeException e) {
              written.completeExceptionally(e);
            }
          });
    } catch (RejectedExecutionException e) {
      written.completeExceptionally(closedError());
    }
    return written;
  }

  /** Queues {@code change}, for the writer to apply in order. */
  private <T> CompletableFuture<T> write(Change<T> change) {
    return gate.whileOpen(
        () -> writer.submit(change), () -> CompletableFuture.failedFuture(closedError()));
  }

  /**
   * Closes the store: the writes already accepted are committed and acknowledged, later ones fail,
   * watches end with {@link KvException.Code#UNAVAILABLE}, and the data directory is released. It
   * waits for the reads and writes under way, and may wait for the disk.
   */
  @Override
  public void close() {
    // A second close waits for the first: when it returns, the directory is released.
    synchronized (closing) {
      if (!gate.close()) {
        return;
      }
      writer.close();
      watches.close(closedError());
      reader.close();
      metrics.close();
      // A snapshot under way writes out its checkpoint, which needs no open database.
      snapshots.shutdown();
      dir.close();
    }
  }
}
