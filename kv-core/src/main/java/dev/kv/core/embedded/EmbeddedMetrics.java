package dev.kv.core.embedded;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;
import org.rocksdb.RocksDBException;

/**
 * What the embedded store measures beyond its operations: its group commits (how many writes share
 * a sync, and how long a batch takes to reach the disk), and, read when a registry is scraped, the
 * data directory's size, RocksDB's pending compaction and whether it holds writes back. The gauges
 * read nothing once the store is closed, and leave the registry with it, so that a store opened
 * again in the same process reports its own.
 */
final class EmbeddedMetrics {

  /** No registry: measures nothing. */
  static final EmbeddedMetrics NONE = new EmbeddedMetrics();

  private final MeterRegistry registry;
  private final DistributionSummary batchSizes;
  private final Timer writes;
  private List<Meter> gauges = List.of();

  /** What the gauges read; null until the store is open, and once it is closed. */
  private Database database;

  private EmbeddedMetrics() {
    this.registry = null;
    this.batchSizes = null;
    this.writes = null;
  }

  private EmbeddedMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.batchSizes =
        DistributionSummary.builder("kv.embedded.commit.batch.size")
            .description("Writes that share one sync to disk (a group commit)")
            .publishPercentileHistogram()
            .register(registry);
    this.writes =
        Timer.builder("kv.embedded.writes")
            .description("Time to apply a group commit's writes and force them to disk")
            .publishPercentileHistogram()
            .register(registry);
  }

  /** Metrics in {@code registry}; none when it is null. */
  static EmbeddedMetrics of(MeterRegistry registry) {
    return registry == null ? NONE : new EmbeddedMetrics(registry);
  }

  /** Once the store is open: serves the gauges that read {@code database}. */
  synchronized void opened(Database database) {
    if (registry == null) {
      return;
    }
    this.database = database;
    this.gauges =
        List.of(
            gauge(
                "kv.embedded.disk.size",
                "bytes",
                "Size of the data directory on disk",
                metrics -> metrics.directorySize()),
            gauge(
                "kv.embedded.pending.compaction",
                "bytes",
                "Bytes RocksDB estimates compaction has to rewrite",
                metrics -> metrics.property("rocksdb.estimate-pending-compaction-bytes")),
            gauge(
                "kv.embedded.write.stalls",
                null,
                "1 while RocksDB stops or slows writes to let compaction catch up, else 0",
                metrics -> metrics.stalled()));
  }

  private Gauge gauge(
      String name, String unit, String description, ToDoubleFunction<EmbeddedMetrics> value) {
    return Gauge.builder(name, this, value)
        .baseUnit(unit)
        .description(description)
        .strongReference(true)
        .register(registry);
  }

  /** On the writer's thread: a batch of {@code writes} writes went to disk in {@code nanos}. */
  void committed(int writeCount, long nanos) {
    if (batchSizes != null && writeCount > 0) {
      batchSizes.record(writeCount);
      writes.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  private synchronized double directorySize() {
    if (database == null) {
      return Double.NaN;
    }
    try (Stream<Path> files = Files.walk(database.path())) {
      return files.mapToLong(EmbeddedMetrics::sizeOf).sum();
    } catch (IOException | UncheckedIOException e) {
      return Double.NaN;
    }
  }

  /** A file's size; 0 for a directory, or for a file gone since it was listed (compacted). */
  private static long sizeOf(Path file) {
    try {
      return Files.isRegularFile(file) ? Files.size(file) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  private synchronized double property(String property) {
    if (database == null) {
      return Double.NaN;
    }
    try {
      return database.propertyOfAll(property);
    } catch (RocksDBException e) {
      return Double.NaN;
    }
  }

  private synchronized double stalled() {
    if (database == null) {
      return Double.NaN;
    }
    try {
      boolean stopped = database.db.getLongProperty("rocksdb.is-write-stopped") > 0;
      boolean slowed = database.db.getLongProperty("rocksdb.actual-delayed-write-rate") > 0;
      return stopped || slowed ? 1 : 0;
    } catch (RocksDBException e) {
      return Double.NaN;
    }
  }

  /** Before the database closes: the gauges stop reading it, and leave the registry. */
  synchronized void close() {
    database = null;
    for (Meter gauge : gauges) {
      registry.remove(gauge);
    }
  }
}
