package dev.kv.core.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KeyValue;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import dev.kv.core.local.History;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rocksdb.ReadTier;
import org.rocksdb.RocksDBException;

@Timeout(60)
class SnapshotReaderTest {

  @RegisterExtension final OpenedDirectory opened = new OpenedDirectory(3);

  @Test
  void get_andList_answerWhatTheDurableBatchesHold_withTheRevisionTheyWereReadAt()
      throws RocksDBException {
    opened.put("a", "1");
    opened.put("b", "2");
    long last = opened.put("c", "3");

    assertThat(opened.reader.get("b", ReadTier.READ_ALL_TIER))
        .contains(new KeyValue("b", "2", 3, 3, 1));
    assertThat(opened.reader.get("missing", ReadTier.READ_ALL_TIER)).isEmpty();
    Page page = opened.reader.list(ListQuery.range("a", "c"), ReadTier.READ_ALL_TIER);
    assertThat(page.entries()).extracting(KeyValue::key).containsExactly("a", "b");
    assertThat(page.revision()).isEqualTo(last);
    assertThat(opened.reader.revision(ReadTier.READ_ALL_TIER)).isEqualTo(last);
  }

  @Test
  void history_givesTheChangesTheQueryCovers_fromItsStartUpToTheRevisionAsked() {
    opened.put("a", "1"); // 2
    opened.put("b", "2"); // 3
    opened.put("a", "3"); // 4

    try (History history = opened.reader.history(3)) {
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
    opened.put("a", "1");
    long asked = opened.put("a", "2");

    try (History history = opened.reader.history(asked)) {
      for (int i = 0; i < 5; i++) {
        opened.put("a", "later " + i); // keeps 3 revisions: trims what the history was asked for
      }
      assertThat(opened.reader.firstKept()).isGreaterThan(asked);

      assertThat(history.firstKept()).isEqualTo(1);
      List<Long> revisions =
          history.since(2, WatchQuery.key("a")).map(WatchEvent::revision).toList();
      assertThat(revisions).containsExactly(2L, asked);
    }
  }

  @Test
  void list_firstPageWithMoreAfterIt_pinsItsSnapshot_untilTheReaderCloses() throws Exception {
    opened.put("a", "1");
    opened.put("b", "2");

    opened.reader.list(ListQuery.prefix("").limit(2), ReadTier.READ_ALL_TIER);
    assertThat(opened.snapshots()).as("a whole listing pins nothing").isZero();
    opened.reader.list(ListQuery.prefix("").limit(1), ReadTier.READ_ALL_TIER);
    assertThat(opened.snapshots()).isEqualTo(1);

    opened.reader.close();
    assertThat(opened.snapshots()).isZero();
  }
}
