package dev.kv.core.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import dev.kv.core.local.History;
import dev.kv.core.local.LocalWatches;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDBException;

@Timeout(60)
class SnapshotReaderTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dataDir;

  private final LocalWatches watches = new LocalWatches("test-watch");
  private DataDirectory dir;
  private GroupCommit writer;
  private SnapshotReader reader;

  @BeforeEach
  void open() throws Exception {
    dir = DataDirectory.open(dataDir, false);
    writer = new GroupCommit(dir.database(), 3, watches);
    reader = new SnapshotReader(dir.database());
  }

  @AfterEach
  void close() {
    writer.close();
    watches.close(new KvException(KvException.Code.UNAVAILABLE, "the test is over"));
    dir.close();
  }

  @Test
  void get_andList_answerWhatTheDurableBatchesHold_withTheRevisionTheyWereReadAt()
      throws RocksDBException {
    put("a", "1");
    put("b", "2");
    long last = put("c", "3");

    assertThat(reader.get("b")).contains(new KeyValue("b", "2", 3, 3, 1));
    assertThat(reader.get("missing")).isEmpty();
    Page page = reader.list(ListQuery.range("a", "c"));
    assertThat(page.entries()).extracting(KeyValue::key).containsExactly("a", "b");
    assertThat(page.revision()).isEqualTo(last);
    assertThat(reader.revision()).isEqualTo(last);
  }

  @Test
  void history_givesTheChangesTheQueryCovers_fromItsStartUpToTheRevisionAsked() {
    put("a", "1"); // 2
    put("b", "2"); // 3
    put("a", "3"); // 4

    try (History history = reader.history(3)) {
      assertThat(history.firstKept()).as("a limit of 3 revisions keeps 2 to 4").isEqualTo(2);
      assertThat(history.since(2, WatchQuery.prefix("")).map(WatchEvent::revision))
          .as("not the change at 4, which is not published yet")
          .containsExactly(2L, 3L);
      assertThat(history.since(2, WatchQuery.key("a")).map(WatchEvent::revision))
          .containsExactly(2L);
    }
  }

  @Test
  void history_isReadFromTheSnapshotTakenWhenItWasAsked() throws RocksDBException {
    put("a", "1");
    long asked = put("a", "2");

    try (History history = reader.history(asked)) {
      for (int i = 0; i < 5; i++) {
        put("a", "later " + i); // keeps 3 revisions: trims what the history was asked for
      }
      assertThat(reader.firstKept()).isGreaterThan(asked);

      assertThat(history.firstKept()).isEqualTo(1);
      List<Long> revisions =
          history.since(2, WatchQuery.key("a")).map(WatchEvent::revision).toList();
      assertThat(revisions).containsExactly(2L, asked);
    }
  }

  private long put(String key, String value) {
    return writer
        .submit(batch -> batch.put(key, value, 0))
        .orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS)
        .join();
  }
}
