package dev.kv.core.embedded;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static dev.kv.core.embedded.DataDirectoryDamage.contents;
import static dev.kv.core.embedded.DataDirectoryDamage.crashImage;
import static dev.kv.core.embedded.DataDirectoryDamage.flipBit;
import static dev.kv.core.embedded.DataDirectoryDamage.lengthenRecord;
import static dev.kv.core.embedded.DataDirectoryDamage.newestLog;
import static dev.kv.core.embedded.DataDirectoryDamage.tableOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.RecordingListener;
import dev.kv.core.WatchQuery;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded store over damaged files: a read that meets damage fails with {@code DATA_LOSS}
 * rather than answering short, and a write-ahead log that lost acknowledged writes is refused at
 * open rather than replayed short.
 */
@Timeout(60)
class DamagedDataDirectoryTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  /** Enough entries of 100 bytes for many blocks of 4 KiB in each table file. */
  private static final int KEYS = 3_000;

  @TempDir Path dataDir;

  @TempDir Path image;

  @Test
  void list_overADamagedTable_failsWithDataLoss_ratherThanAnsweringShort() throws Exception {
    writeKeysToTables(Duration.ZERO);
    flipBit(tableOf(dataDir, "entries"), 0.5);

    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      assertDataLoss(store.list(ListQuery.prefix("").limit(ListQuery.MAX_LIMIT)));
      assertDataLoss(store.deletePrefix("key/"));
      assertThat(store.blocking().get(key(0))).isPresent();
    }
  }

  @Test
  void get_ofAKeyInADamagedBlock_failsWithDataLoss() throws Exception {
    writeKeysToTables(Duration.ZERO);
    flipBit(tableOf(dataDir, "entries"), 0.5);

    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      List<Throwable> failures =
          IntStream.range(0, KEYS)
              .mapToObj(i -> store.get(key(i)).handle((entry, error) -> error).join())
              .filter(Objects::nonNull)
              .toList();

      assertThat(failures)
          .isNotEmpty()
          .allSatisfy(
              error ->
                  assertThat(error).isInstanceOfSatisfying(KvException.class, dataLossIn(dataDir)));
    }
  }

  @Test
  void watchFromAnOldRevision_overADamagedTable_endsWithDataLoss() throws Exception {
    writeKeysToTables(Duration.ZERO);
    flipBit(tableOf(dataDir, "history"), 0.5);

    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      RecordingListener changes = new RecordingListener();
      store.watch(WatchQuery.prefix("").fromRevision(1), changes);

      assertThat(changes.error()).succeedsWithin(WAIT).satisfies(dataLossIn(dataDir));
    }
  }

  @Test
  void expiriesInADamagedTable_areRefusedAtOpen_ratherThanNeverDone() throws Exception {
    writeKeysToTables(Duration.ofHours(1));
    flipBit(tableOf(dataDir, "expiries"), 0.01); // the first block: the next expiry is read at open

    assertRefused(() -> EmbeddedStore.open(dataDir));
  }

  @Test
  void historyToTrimInADamagedTable_isRefusedAtOpen_ratherThanTrimmedShort() throws Exception {
    writeKeysToTables(Duration.ZERO);
    flipBit(tableOf(dataDir, "history"), 0.01); // the first block: the oldest changes go first

    assertRefused(() -> EmbeddedStore.builder().dataDir(dataDir).historyLimit(10).build());
  }

  @Test
  void logDeletedAfterACleanStop_isRefusedAtOpen_ratherThanOpenedWithoutItsWrites()
      throws Exception {
    writeKeys(dataDir, 300);
    try (var logs = Files.list(dataDir.resolve("db"))) {
      for (Path log : logs.filter(file -> file.toString().endsWith(".log")).toList()) {
        Files.delete(log);
      }
    }

    assertThatThrownBy(() -> EmbeddedStore.open(dataDir))
        .isInstanceOfSatisfying(KvException.class, this::assertLogRefused);
    // A clean stop left nothing that the log alone held.
    EmbeddedStore.builder().dataDir(dataDir).salvage(true).build().close();
    assertHoldsKeys(dataDir, 300);
  }

  @Test
  void logEmptiedAfterACleanStop_losesNoWrite() throws Exception {
    writeKeys(dataDir, 300);
    Files.write(newestLog(dataDir), new byte[0]);

    assertHoldsKeys(dataDir, 300);
  }

  @Test
  void logZeroedAfterACleanStop_losesNoWrite() throws Exception {
    writeKeys(dataDir, 300);
    Path log = newestLog(dataDir);
    Files.write(log, new byte[(int) Files.size(log)]);

    assertHoldsKeys(dataDir, 300);
  }

  @Test
  void recordLengthChangedAfterACrash_isRefusedAtOpen_ratherThanTakenForATornWrite()
      throws Exception {
    crashAfterWriting(300);
    Path log = newestLog(image);
    lengthenRecord(log, 8);
    Map<Path, String> before = contents(image);

    assertThatThrownBy(() -> EmbeddedStore.open(image))
        .isInstanceOfSatisfying(
            KvException.class,
            e -> {
              assertLogRefused(e);
              assertThat(e.getMessage()).contains(log.getFileName().toString());
            });
    assertThat(contents(image)).isEqualTo(before);
  }

  @Test
  void salvage_opensWhatCanBeRead_keepsTheLog_andGivesNoRevisionTwice() throws Exception {
    crashAfterWriting(300);
    Path log = newestLog(image);
    lengthenRecord(log, 8);
    byte[] damaged = Files.readAllBytes(log);

    long revision;
    try (EmbeddedStore store = EmbeddedStore.builder().dataDir(image).salvage(true).build()) {
      List<KeyValue> entries =
          store.blocking().list(ListQuery.prefix("key/").limit(ListQuery.MAX_LIMIT)).entries();
      assertThat(entries)
          .extracting(KeyValue::key)
          .containsExactlyElementsOf(IntStream.range(0, 291).mapToObj(i -> key(i)).toList());
      revision = store.blocking().set("after", "salvage");
      assertThat(revision)
          .isGreaterThan(entries.stream().mapToLong(KeyValue::modRevision).max().orElseThrow());
    }
    try (var kept = Files.walk(image.resolve("salvaged"))) {
      assertThat(kept.filter(file -> file.getFileName().equals(log.getFileName())).toList())
          .singleElement()
          .satisfies(copy -> assertThat(Files.readAllBytes(copy)).isEqualTo(damaged));
    }
    try (EmbeddedStore reopened = EmbeddedStore.open(image)) {
      assertThat(reopened.blocking().entry("after").orElseThrow().modRevision())
          .isEqualTo(revision);
    }
  }

  @Test
  void recordDamagedAfterACrash_isRefusedAtOpen_andLeftUntouched() throws Exception {
    crashAfterWriting(300);
    flipBit(newestLog(image), 0.5);
    Map<Path, String> before = contents(image);

    assertThatThrownBy(() -> EmbeddedStore.open(image))
        .isInstanceOfSatisfying(KvException.class, this::assertLogRefused);
    assertThat(contents(image)).isEqualTo(before);
  }

  @Test
  void lastWriteTornByACrash_isDropped_andTheStoreOpens() throws Exception {
    crashAfterWriting(300);
    Path log = newestLog(image);
    try (var bytes = new java.io.RandomAccessFile(log.toFile(), "rw")) {
      bytes.setLength(bytes.length() - 5);
    }

    assertHoldsKeys(image, 299);
  }

  /** Writes {@code count} keys one after the other, each a record of its own in the log. */
  private static void writeKeys(Path dir, int count) {
    try (EmbeddedStore store = EmbeddedStore.open(dir)) {
      for (int i = 0; i < count; i++) {
        store.blocking().set(key(i), "value " + i);
      }
    }
  }

  /** A data directory in {@link #image} as a crash after {@code count} writes leaves it. */
  private void crashAfterWriting(int count) throws Exception {
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      for (int i = 0; i < count; i++) {
        store.blocking().set(key(i), "value " + i);
      }
      crashImage(dataDir, image);
    }
  }

  private static void assertHoldsKeys(Path dir, int count) {
    try (EmbeddedStore store = EmbeddedStore.open(dir)) {
      assertThat(
              store.blocking().list(ListQuery.prefix("key/").limit(ListQuery.MAX_LIMIT)).entries())
          .extracting(KeyValue::key)
          .containsExactlyElementsOf(IntStream.range(0, count).mapToObj(i -> key(i)).toList());
    }
  }

  private void assertLogRefused(KvException e) {
    assertThat(e.code()).isEqualTo(KvException.Code.FAILED_PRECONDITION);
    assertThat(e.getMessage())
        .startsWith("cannot open the data directory ")
        .contains("its write-ahead log is damaged")
        .contains("--salvage")
        .doesNotContain("\n");
  }

  private void writeKeysToTables(Duration ttl) {
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      IntStream.range(0, KEYS)
          .mapToObj(i -> store.set(key(i), ("value " + i + " ").repeat(10), ttl))
          .toList()
          .forEach(CompletableFuture::join);
    }
    // Opening again moves what the write-ahead log holds into table files.
    EmbeddedStore.open(dataDir).close();
  }

  private static String key(int i) {
    return String.format("key/%05d", i);
  }

  private void assertDataLoss(CompletableFuture<?> call) {
    assertThatFailureOf(call, WAIT).satisfies(dataLossIn(dataDir));
  }

  private static Consumer<KvException> dataLossIn(Path dir) {
    return e -> {
      assertThat(e.code()).isEqualTo(KvException.Code.DATA_LOSS);
      assertThat(e.getMessage()).contains("data directory " + dir).doesNotContain("\n");
    };
  }

  private void assertRefused(ThrowingCallable open) {
    assertThatThrownBy(open).isInstanceOfSatisfying(KvException.class, dataLossIn(dataDir));
  }
}
