package dev.kv.core.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.StoreValues;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class EmbeddedSnapshotsTest {

  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path temp;

  /** A write acknowledged by the store: a value, or null for a delete. */
  private record Acknowledged(String key, String value, long revision) {}

  @Test
  void snapshotWhileWritersRun_restoresTheStoreAsItWasAtTheSnapshotsRevision() throws Exception {
    Path source = temp.resolve("source");
    Path snapshotFile = temp.resolve("snapshot");
    ConcurrentLinkedQueue<Acknowledged> acknowledged = new ConcurrentLinkedQueue<>();
    SnapshotInfo info;
    long laterRevision;
    try (EmbeddedStore store = EmbeddedStore.open(source)) {
      AtomicBoolean snapshotDone = new AtomicBoolean();
      CountDownLatch warmedUp = new CountDownLatch(4);
      List<CompletableFuture<Integer>> writers = new ArrayList<>();
      for (int w = 0; w < 4; w++) {
        int writer = w;
        writers.add(
            CompletableFuture.supplyAsync(
                () -> {
                  Random random = new Random(writer);
                  int afterSnapshot = 0;
                  for (int i = 0; afterSnapshot < 100; i++) {
                    if (i == 100) {
                      warmedUp.countDown();
                    }
                    String key = i % 2 == 0 ? "own/" + writer + "/" + i : "shared/" + i % 17;
                    if (i % 7 == 3) {
                      long revision = store.blocking().delete(key).revision();
                      acknowledged.add(new Acknowledged(key, null, revision));
                    } else {
                      String value = "w" + writer + "-" + i + "-" + random.nextInt();
                      acknowledged.add(
                          new Acknowledged(key, value, store.blocking().set(key, value)));
                    }
                    if (snapshotDone.get()) {
                      afterSnapshot++;
                    }
                  }
                  return afterSnapshot;
                }));
      }
      assertThat(warmedUp.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      Set<String> writingThreads = ConcurrentHashMap.newKeySet();
      try (var out =
          new FilterOutputStream(Files.newOutputStream(snapshotFile)) {
            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
              writingThreads.add(Thread.currentThread().getName());
              out.write(bytes, offset, length);
            }
          }) {
        info = store.snapshot(out).get(WAIT.toSeconds(), TimeUnit.SECONDS);
      }
      assertThat(writingThreads).containsExactly("kv-embedded-snapshot");
      assertThat(source.resolve(Checkpoints.DIRECTORY)).isEmptyDirectory();
      snapshotDone.set(true);
      CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new))
          .get(WAIT.toSeconds(), TimeUnit.SECONDS);
      laterRevision = revisionOf(store);
    }

    assertThat(info.format()).isEqualTo(SnapshotInfo.EMBEDDED);
    assertThat(info.bytes()).isEqualTo(Files.size(snapshotFile));
    long r = info.revision();
    assertThat(acknowledged).anyMatch(write -> write.revision() > r);
    assertThat(laterRevision).isGreaterThan(r);
    Map<String, Acknowledged> last = new HashMap<>();
    for (Acknowledged write : acknowledged) {
      if (write.revision() <= r) {
        last.merge(write.key(), write, (a, b) -> a.revision() > b.revision() ? a : b);
      }
    }
    Map<String, String> expected = new TreeMap<>();
    last.values().stream()
        .filter(write -> write.value() != null)
        .forEach(write -> expected.put(write.key(), write.value()));
    assertThat(expected).isNotEmpty();

    Path restoredDir = temp.resolve("restored");
    EmbeddedSnapshots.Restored restored;
    try (InputStream in = Files.newInputStream(snapshotFile)) {
      restored = EmbeddedSnapshots.restore(in, restoredDir, false);
    }

    assertThat(restored.revision()).isEqualTo(r);
    assertThat(restored.keys()).isEqualTo(expected.size());
    assertThat(restored.bytes()).isEqualTo(info.bytes());
    assertThat(restored.replaced()).isEmpty();
    try (EmbeddedStore store = EmbeddedStore.open(restoredDir)) {
      assertThat(revisionOf(store)).isEqualTo(r);
      assertThat(everything(store)).isEqualTo(expected);
      assertThat(store.blocking().set("after", "restore")).isEqualTo(r + 1);
    }
  }

  @Test
  void storeClosedWhileASnapshotIsWritten_doesNotWaitForIt_andTheSnapshotCompletes()
      throws Exception {
    Path dir = temp.resolve("dir");
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ByteArrayOutputStream written = new ByteArrayOutputStream();
    OutputStream slow =
        new FilterOutputStream(written) {
          @Override
          public void write(byte[] bytes, int offset, int length) throws IOException {
            writing.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              throw new IOException(e);
            }
            out.write(bytes, offset, length);
          }
        };
    CompletableFuture<SnapshotInfo> snapshot;
    try (EmbeddedStore store = EmbeddedStore.open(dir)) {
      store.blocking().set("k", "v");
      snapshot = store.snapshot(slow);
      assertThat(writing.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }
    assertThat(snapshot).isNotDone();
    release.countDown();

    assertThat(snapshot.get(WAIT.toSeconds(), TimeUnit.SECONDS).revision()).isEqualTo(2);
    assertThat(
            EmbeddedSnapshots.restore(
                    new ByteArrayInputStream(written.toByteArray()), temp.resolve("copy"), false)
                .keys())
        .isEqualTo(1);
  }

  @Test
  void damagedOrForeignFiles_areRefusedWithOneLine_andTheTargetIsUntouched() throws Exception {
    byte[] snapshot = snapshotOf(Map.of("a", "1", "b", "2"));
    String whole = new String(snapshot, StandardCharsets.ISO_8859_1);
    int headerEnd = whole.indexOf("\nheader ") + 1;
    int trailer = whole.lastIndexOf("end ");
    int dataStart = whole.indexOf('\n', headerEnd) + 1;

    Map<String, byte[]> damaged = new TreeMap<>();
    for (int cut :
        new int[] {
          5,
          40,
          headerEnd + 3,
          dataStart,
          (dataStart + trailer) / 2,
          trailer,
          trailer + 10,
          snapshot.length - 1
        }) {
      damaged.put("cut at " + cut, Arrays.copyOf(snapshot, cut));
    }
    damaged.put("flip in the data", flipped(snapshot, (dataStart + trailer) / 2));
    damaged.put("flip in the revision", flipped(snapshot, whole.indexOf("revision ") + 9));
    damaged.put("flip in a file's size", flipped(snapshot, whole.indexOf("\nfile ") + 12));
    damaged.put("flip in the trailer", flipped(snapshot, trailer + 20));
    damaged.put("bytes appended", concat(snapshot, "x".getBytes(StandardCharsets.UTF_8)));
    damaged.put(
        "random bytes",
        new Random(7)
            .ints(4096, 0, 256)
            .collect(ByteArrayOutputStream::new, ByteArrayOutputStream::write, (a, b) -> {})
            .toByteArray());
    damaged.put("empty", new byte[0]);
    damaged.put(
        "JSON lines",
        "{\"format\":\"kv export\"}\n{\"key\":\"a\",\"value\":\"1\"}\n"
            .getBytes(StandardCharsets.UTF_8));

    Path existing = temp.resolve("existing");
    Files.createDirectories(existing);
    for (Map.Entry<String, byte[]> file : damaged.entrySet()) {
      for (Path target : List.of(temp.resolve("new"), existing)) {
        assertThatThrownBy(
                () ->
                    EmbeddedSnapshots.restore(
                        new ByteArrayInputStream(file.getValue()), target, false))
            .as(file.getKey())
            .isInstanceOfSatisfying(
                KvException.class,
                e -> {
                  assertThat(e.code()).isEqualTo(KvException.Code.INVALID_ARGUMENT);
                  assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("Exception");
                });
      }
      assertThatThrownBy(() -> EmbeddedSnapshots.check(new ByteArrayInputStream(file.getValue())))
          .as("check of " + file.getKey())
          .isInstanceOfSatisfying(
              KvException.class,
              e -> assertThat(e.code()).isEqualTo(KvException.Code.INVALID_ARGUMENT));
      assertThat(temp.resolve("new")).as(file.getKey()).doesNotExist();
      assertThat(existing).as(file.getKey()).isEmptyDirectory();
      try (Stream<Path> left = Files.list(temp)) {
        assertThat(left)
            .as(file.getKey())
            .allMatch(path -> !path.getFileName().toString().contains(".restore-"));
      }
    }
    SnapshotInfo checked = EmbeddedSnapshots.check(new ByteArrayInputStream(snapshot));
    assertThat(checked.bytes()).isEqualTo(snapshot.length);
    assertThat(checked.revision()).isEqualTo(3);
    assertThat(checked.format()).isEqualTo(SnapshotInfo.EMBEDDED);
    assertThat(message(damaged.get("empty")))
        .isEqualTo("the file is empty, not a kv embedded snapshot");
    assertThat(message(damaged.get("JSON lines"))).contains("JSON lines").contains("kv import");
    assertThat(message(damaged.get("random bytes")))
        .startsWith("the file is not a kv embedded snapshot");
    assertThat(message(damaged.get("cut at " + (headerEnd + 3))))
        .isEqualTo("the snapshot is cut short: it ends inside its header");
    assertThat(message(damaged.get("cut at " + trailer)))
        .isEqualTo("the snapshot is cut short: it ends inside its trailer");
    assertThat(message(damaged.get("cut at " + (dataStart + trailer) / 2)))
        .startsWith("the snapshot is cut short: it ends inside ");
    assertThat(message(damaged.get("flip in the data"))).contains("do not match their SHA-256");
    assertThat(message(damaged.get("flip in the revision")))
        .isEqualTo("the snapshot is damaged: its header does not match its SHA-256");
    assertThat(message(damaged.get("flip in the trailer")))
        .isEqualTo("the snapshot is damaged: its bytes do not match the SHA-256 of its trailer");
  }

  @Test
  void restoreIntoADirectoryHoldingData_isRefused_butWithForceKeepsTheOldDataAside()
      throws Exception {
    byte[] snapshot = snapshotOf(Map.of("new", "data"));
    Path target = temp.resolve("target");
    try (EmbeddedStore store = EmbeddedStore.open(target)) {
      store.blocking().set("old", "data");
    }
    Map<Path, String> before = DataDirectoryDamage.contents(target);

    assertThatThrownBy(
            () -> EmbeddedSnapshots.restore(new ByteArrayInputStream(snapshot), target, false))
        .isInstanceOfSatisfying(
            KvException.class,
            e -> assertThat(e.code()).isEqualTo(KvException.Code.INVALID_ARGUMENT))
        .hasMessage(
            "the data directory "
                + target
                + " holds data; choose a new or empty directory, or force the restore, which keeps"
                + " that data aside in replaced/");
    assertThat(DataDirectoryDamage.contents(target)).isEqualTo(before);

    EmbeddedSnapshots.Restored restored =
        EmbeddedSnapshots.restore(new ByteArrayInputStream(snapshot), target, true);

    assertThat(restored.replaced()).isPresent();
    assertThat(restored.replaced().get().getParent()).isEqualTo(target.resolve("replaced"));
    try (EmbeddedStore store = EmbeddedStore.open(target)) {
      assertThat(everything(store)).isEqualTo(Map.of("new", "data"));
    }
    Path kept = temp.resolve("kept");
    Files.createDirectories(kept);
    Files.move(restored.replaced().get().resolve("db"), DataDirectory.database(kept));
    try (EmbeddedStore store = EmbeddedStore.open(kept)) {
      assertThat(everything(store)).isEqualTo(Map.of("old", "data"));
    }
  }

  @Test
  void restoreIntoADirectoryInUse_isRefused_evenWithForce() throws Exception {
    byte[] snapshot = snapshotOf(Map.of("new", "data"));
    Path target = temp.resolve("target");
    try (EmbeddedStore store = EmbeddedStore.open(target)) {
      assertThatThrownBy(
              () -> EmbeddedSnapshots.restore(new ByteArrayInputStream(snapshot), target, true))
          .isInstanceOfSatisfying(
              KvException.class,
              e -> assertThat(e.code()).isEqualTo(KvException.Code.FAILED_PRECONDITION))
          .hasMessageContaining("it is in use");
      store.blocking().set("still", "serving");
    }
  }

  @Test
  void saveOfADirectoryInUse_isRefused_sayingToSnapshotThroughTheServer() throws Exception {
    Path dir = temp.resolve("dir");
    try (EmbeddedStore store = EmbeddedStore.open(dir)) {
      assertThatThrownBy(() -> EmbeddedSnapshots.save(dir, new ByteArrayOutputStream()))
          .isInstanceOfSatisfying(
              KvException.class,
              e -> assertThat(e.code()).isEqualTo(KvException.Code.FAILED_PRECONDITION))
          .hasMessage(
              "the data directory "
                  + dir
                  + " is in use, by a running kv-server or another process; take the snapshot"
                  + " through it (kv snapshot save FILE)");
    }
  }

  @Test
  void saveOfAStoppedDirectory_restoresIt() throws Exception {
    Path dir = temp.resolve("dir");
    try (EmbeddedStore store = EmbeddedStore.open(dir)) {
      store.blocking().set("k", "v");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    SnapshotInfo info = EmbeddedSnapshots.save(dir, out);

    assertThat(info.bytes()).isEqualTo(out.size());
    EmbeddedSnapshots.Restored restored =
        EmbeddedSnapshots.restore(
            new ByteArrayInputStream(out.toByteArray()), temp.resolve("copy"), false);
    assertThat(restored.revision()).isEqualTo(info.revision()).isEqualTo(2);
    assertThat(restored.keys()).isEqualTo(1);
    assertThat(dir.resolve(Checkpoints.DIRECTORY)).isEmptyDirectory();
  }

  @Test
  void checkpointLeftByACrash_isDeletedAtOpen() throws Exception {
    Path dir = temp.resolve("dir");
    EmbeddedStore.open(dir).close();
    Path left = Files.createDirectories(dir.resolve(Checkpoints.DIRECTORY).resolve("123-1"));
    Files.writeString(left.resolve("000009.sst"), "half a file");

    try (EmbeddedStore store = EmbeddedStore.open(dir)) {
      assertThat(dir.resolve(Checkpoints.DIRECTORY)).doesNotExist();
      store.blocking().set("k", "v");
    }
  }

  private byte[] snapshotOf(Map<String, String> entries) throws Exception {
    Path dir = Files.createTempDirectory(temp, "source");
    try (EmbeddedStore store = EmbeddedStore.open(dir)) {
      entries.forEach(store.blocking()::set);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      store.snapshot(out).get(WAIT.toSeconds(), TimeUnit.SECONDS);
      return out.toByteArray();
    }
  }

  private String message(byte[] file) {
    try {
      EmbeddedSnapshots.restore(new ByteArrayInputStream(file), temp.resolve("new"), false);
    } catch (KvException e) {
      return e.getMessage();
    }
    throw new AssertionError("restored");
  }

  private static byte[] flipped(byte[] bytes, int at) {
    byte[] copy = bytes.clone();
    copy[at] ^= 0x04;
    return copy;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] both = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }

  private static long revisionOf(EmbeddedStore store) {
    return store.blocking().list(ListQuery.prefix("").limit(1)).revision();
  }

  private static Map<String, String> everything(EmbeddedStore store) {
    return StoreValues.of(store);
  }
}
