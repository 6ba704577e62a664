package dev.kv.core.embedded;

import dev.kv.core.KvException;
import dev.kv.core.local.LocalWatches;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.rocksdb.RocksDBException;

/**
 * A new data directory opened with a writer and a reader, as the store opens them, for each test of
 * those parts; closed and deleted after it. Register it with {@code @RegisterExtension}.
 */
final class OpenedDirectory implements BeforeEachCallback, AfterEachCallback {

  static final Duration WAIT = Duration.ofSeconds(30);

  final LocalWatches watches = new LocalWatches("test-watch");
  private final int historyLimit;
  private Path path;
  private DataDirectory dir;
  GroupCommit writer;
  SnapshotReader reader;

  /** How many RocksDB snapshots are not released. */
  long snapshots() throws RocksDBException {
    return dir.database().db.getLongProperty("rocksdb.num-snapshots");
  }

  /** Keeps the changes of the last {@code historyLimit} revisions. */
  OpenedDirectory(int historyLimit) {
    this.historyLimit = historyLimit;
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    path = Files.createTempDirectory("kv-embedded-test");
    dir = DataDirectory.open(path, false);
    writer = new GroupCommit(dir.database(), historyLimit, watches, EmbeddedMetrics.NONE);
    reader = new SnapshotReader(dir.database());
  }

  /** Writes {@code value} under {@code key}, without a time to live, and waits for its revision. */
  long put(String key, String value) {
    return writer
        .submit(batch -> batch.put(key, value, 0))
        .orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS)
        .join();
  }

  @Override
  public void afterEach(ExtensionContext context) throws IOException {
    writer.close();
    reader.close();
    watches.close(new KvException(KvException.Code.UNAVAILABLE, "the test is over"));
    dir.close();
    try (Stream<Path> files = Files.walk(path)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }
}
