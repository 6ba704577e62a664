package dev.kv.core.embedded;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static dev.kv.core.embedded.DataDirectoryDamage.contents;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kv.core.BlockingKvStore;
import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.RecordingListener;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

@Timeout(60)
class EmbeddedStoreTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dataDir;

  @Test
  void reopened_hasEveryEntryWithItsRevisions_andGoesOnFromTheLastRevision() {
    KeyValue kept;
    KeyValue living;
    long last;
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      BlockingKvStore kv = store.blocking();
      kv.set("a", "1");
      kv.set("a", "2");
      kv.set("gone", "x");
      kv.delete("gone");
      kv.set("ttl", "lives", Duration.ofHours(1));
      last = kv.set("b", "ünïcode ✓");
      kept = kv.entry("a").orElseThrow();
      living = kv.entry("ttl").orElseThrow();
    }

    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      BlockingKvStore kv = store.blocking();
      assertThat(kv.entry("a")).contains(kept);
      assertThat(kv.entry("ttl")).contains(living);
      assertThat(kv.get("b")).contains("ünïcode ✓");
      assertThat(kv.get("gone")).isEmpty();
      assertThat(kv.list(ListQuery.prefix("")).revision()).isEqualTo(last);
      assertThat(kv.set("c", "3")).isEqualTo(last + 1);
    }
  }

  @Test
  void keyThatExpiredWhileClosed_isGoneAtOpen_withItsDeleteInTheHistory() throws Exception {
    long written;
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      written = store.blocking().set("session", "s1", Duration.ofSeconds(1));
      store.blocking().set("stays", "yes");
    }
    Thread.sleep(1_500);

    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      assertThat(store.blocking().get("session")).isEmpty();
      assertThat(store.blocking().get("stays")).contains("yes");
      RecordingListener seen = new RecordingListener();
      store.watch(WatchQuery.key("session").fromRevision(written), seen);
      assertThat(seen.next(2, WAIT))
          .extracting(WatchEvent::type)
          .containsExactly(WatchEvent.Type.PUT, WatchEvent.Type.DELETE);
    }
  }

  @Test
  void keyWithTimeLeftAtOpen_expiresOnTimeAfterwards() throws Exception {
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      store.blocking().set("short", "v", Duration.ofSeconds(2));
    }

    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      assertThat(store.blocking().get("short")).contains("v");
      RecordingListener seen = new RecordingListener();
      store.watch(WatchQuery.key("short"), seen);
      assertThat(seen.next(1, WAIT))
          .singleElement()
          .extracting(WatchEvent::type)
          .isEqualTo(WatchEvent.Type.DELETE);
      assertThat(store.blocking().get("short")).isEmpty();
    }
  }

  @Test
  void watchFromARevisionBeforeTheRestart_deliversTheChangesKeptOnDisk() throws Exception {
    long first;
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      first = store.blocking().set("k", "v1");
      store.blocking().set("k", "v2");
      store.blocking().delete("k");
    }

    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      RecordingListener seen = new RecordingListener();
      store.watch(WatchQuery.key("k").fromRevision(first), seen);
      store.blocking().set("k", "v3");

      assertThat(seen.next(4, WAIT))
          .extracting(event -> event.type() + " " + event.entry().value())
          .containsExactly("PUT v1", "PUT v2", "DELETE ", "PUT v3");
    }
  }

  @Test
  void watchFromARevisionNoLongerKept_endsWithOutOfRange_namingTheOldestKept() throws Exception {
    try (EmbeddedStore store = EmbeddedStore.builder().dataDir(dataDir).historyLimit(3).build()) {
      for (int i = 0; i < 5; i++) {
        store.blocking().set("k", "v" + i); // revisions 2 to 6; the last 3 are kept
      }
      RecordingListener seen = new RecordingListener();

      store.watch(WatchQuery.key("k").fromRevision(3), seen);

      assertThat(seen.error())
          .succeedsWithin(WAIT)
          .satisfies(
              error -> {
                assertThat(error.code()).isEqualTo(KvException.Code.OUT_OF_RANGE);
                assertThat(error.getMessage())
                    .isEqualTo("revision 3 is no longer kept; the oldest available is 4");
              });
      RecordingListener kept = new RecordingListener();
      store.watch(WatchQuery.key("k").fromRevision(4), kept);
      assertThat(kept.next(3, WAIT)).extracting(WatchEvent::revision).containsExactly(4L, 5L, 6L);
    }
  }

  @Test
  void concurrentWrites_shareSyncs_andEachGetsARevisionOfItsOwn() {
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      List<CompletableFuture<Long>> writes =
          IntStream.range(0, 2_000).mapToObj(i -> store.set("key" + i, "v" + i)).toList();

      List<Long> revisions = writes.stream().map(CompletableFuture::join).toList();

      assertThat(revisions).doesNotHaveDuplicates().allMatch(revision -> revision > 1);
      assertThat(store.blocking().list(ListQuery.prefix("key").limit(5_000)).entries())
          .hasSize(2_000);
    }
  }

  @Test
  void secondOpenOfTheSameDirectory_isRefused_andTheFirstGoesOn() {
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      store.blocking().set("k", "v");

      assertThatThrownBy(() -> EmbeddedStore.open(dataDir))
          .isInstanceOfSatisfying(
              KvException.class,
              e -> assertThat(e.code()).isEqualTo(KvException.Code.FAILED_PRECONDITION))
          .hasMessage(
              "cannot open the data directory "
                  + dataDir
                  + ": it is in use by another process (or by another store in this one); "
                  + "only one may open a data directory at a time");
      assertThat(store.blocking().get("k")).contains("v");
    }
    try (EmbeddedStore reopened = EmbeddedStore.open(dataDir)) {
      assertThat(reopened.blocking().get("k")).contains("v");
    }
  }

  @Test
  void directoryHoldingOtherFiles_isRefused_andLeftUntouched() throws Exception {
    Files.writeString(dataDir.resolve("notes.txt"), "mine");

    assertThatThrownBy(() -> EmbeddedStore.open(dataDir))
        .isInstanceOf(KvException.class)
        .hasMessage(
            "cannot open the data directory "
                + dataDir
                + ": it is not a kv data directory (it holds notes.txt); "
                + "choose an empty or new directory");
    try (var files = Files.list(dataDir)) {
      assertThat(files).containsExactly(dataDir.resolve("notes.txt"));
    }
  }

  @Test
  void aFile_isRefused() throws Exception {
    Path file = Files.writeString(dataDir.resolve("file"), "x");

    assertThatThrownBy(() -> EmbeddedStore.open(file))
        .isInstanceOf(KvException.class)
        .hasMessageEndingWith(": it is a file, not a directory");
  }

  @Test
  void missingDirectory_isMade_withItsParents() {
    Path nested = dataDir.resolve("a/b/data");

    try (EmbeddedStore store = EmbeddedStore.open(nested)) {
      store.blocking().set("k", "v");
    }

    assertThat(nested.resolve("db")).isDirectory();
  }

  @Test
  void damagedDatabase_isRefusedAtOpen_neverOpenedEmpty() throws Exception {
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      store.blocking().set("k", "v");
    }
    Files.delete(dataDir.resolve("db/CURRENT"));

    assertThatThrownBy(() -> EmbeddedStore.open(dataDir))
        .isInstanceOfSatisfying(
            KvException.class,
            e -> assertThat(e.code()).isEqualTo(KvException.Code.FAILED_PRECONDITION))
        .hasMessageStartingWith("cannot open the data directory " + dataDir + ": it is damaged (")
        .hasMessageEndingWith(
            "); restore it from a backup, or move it away to start with an empty store");
  }

  @Test
  void corruptedManifest_isRefusedAtOpen() throws Exception {
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      store.blocking().set("k", "v");
    }
    Path manifest;
    try (var files = Files.list(dataDir.resolve("db"))) {
      manifest =
          files
              .filter(file -> file.getFileName().toString().startsWith("MANIFEST-"))
              .findFirst()
              .orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(manifest);
    for (int i = 0; i < bytes.length; i += 7) {
      bytes[i] ^= (byte) 0x5a;
    }
    Files.write(manifest, bytes);

    assertThatThrownBy(() -> EmbeddedStore.open(dataDir))
        .isInstanceOf(KvException.class)
        .hasMessageContaining("it is damaged");
  }

  @Test
  void anotherRocksDbDatabase_isRefused_andLeftUntouched() throws Exception {
    RocksDB.loadLibrary();
    try (Options options = new Options().setCreateIfMissing(true);
        RocksDB other = RocksDB.open(options, dataDir.resolve("db").toString())) {
      other.put("k".getBytes(), "v".getBytes());
    }
    Map<Path, String> before = contents(dataDir.resolve("db"));

    assertThatThrownBy(() -> EmbeddedStore.open(dataDir))
        .isInstanceOf(KvException.class)
        .hasMessageContaining("its database is not a kv store's");
    assertThat(contents(dataDir.resolve("db"))).isEqualTo(before);
  }

  @SuppressWarnings("try") // the store is opened for its lock only
  @Test
  void secondOpenInTheSameProcess_keepsTheDirectoryLockedForOthers() throws Exception {
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      assertThatThrownBy(() -> EmbeddedStore.open(dataDir)).isInstanceOf(KvException.class);

      assertThat(LockProbe.canLock(dataDir.resolve("kv.lock"))).isFalse();
    }
    assertThat(LockProbe.canLock(dataDir.resolve("kv.lock"))).isTrue();
  }

  @Test
  void closeWhileInterrupted_stillFinishesTheAcceptedWrites() {
    EmbeddedStore store = EmbeddedStore.open(dataDir);
    List<CompletableFuture<Long>> writes =
        IntStream.range(0, 2_000).mapToObj(i -> store.set("key" + i, "v")).toList();

    Thread.currentThread().interrupt();
    store.close();

    assertThat(Thread.interrupted()).isTrue();
    assertThat(writes).allSatisfy(write -> assertThat(write).succeedsWithin(WAIT));
    try (EmbeddedStore reopened = EmbeddedStore.open(dataDir)) {
      assertThat(reopened.blocking().list(ListQuery.prefix("key").limit(5_000)).entries())
          .hasSize(2_000);
    }
  }

  @Test
  void closeFromACallbackOfAWrite_doesNotWaitForItself() {
    EmbeddedStore store = EmbeddedStore.open(dataDir);

    CompletableFuture<Void> closed = store.set("k", "v").thenRun(store::close);

    assertThat(closed).succeedsWithin(WAIT);
    assertThat(store.get("k")).isCompletedExceptionally();
  }

  @Test
  void afterClose_callsFailWithUnavailable_andWatchesEnd() {
    EmbeddedStore store = EmbeddedStore.open(dataDir);
    RecordingListener seen = new RecordingListener();
    store.watch(WatchQuery.prefix(""), seen);

    store.close();

    assertThat(seen.error())
        .succeedsWithin(WAIT)
        .extracting(KvException::code)
        .isEqualTo(KvException.Code.UNAVAILABLE);
    assertThatFailureOf(store.get("k"), WAIT).hasCode(KvException.Code.UNAVAILABLE);
    assertThat(store.set("k", "v")).isCompletedExceptionally();
    assertThat(Optional.of(store.dataDir())).contains(dataDir);
  }
}
