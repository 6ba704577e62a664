package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.ListQuery;
import dev.kv.core.embedded.EmbeddedStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code kv-server snapshot} and {@code kv-server restore}, as users run them. */
@Timeout(120)
class SnapshotCommandsTest {

  @TempDir Path temp;

  private Path source;
  private Path file;

  @BeforeEach
  void storeWithData() {
    source = temp.resolve("source");
    file = temp.resolve("kv.snapshot");
    try (EmbeddedStore store = EmbeddedStore.open(source)) {
      store.blocking().set("a", "1");
      store.blocking().set("b", "2");
    }
  }

  @Test
  void snapshotOfAStoppedDirectory_restoresIntoANewOne_eachSayingWhatItDidInOneLine() {
    CommandRun saved = run("snapshot", "--data-dir", source.toString(), file.toString());

    assertThat(saved.exitCode()).isZero();
    assertThat(saved.err()).isEmpty();
    assertThat(saved.out())
        .matches(
            "wrote a snapshot of "
                + source
                + " to "
                + file
                + ": revision 3, [0-9.]+ MiB \\([0-9]+ bytes\\) in [0-9.]+s\\R");
    assertThat(file).exists();
    assertThat(temp.resolve("kv.snapshot.part")).doesNotExist();

    Path restoredDir = temp.resolve("restored");
    CommandRun restored = run("restore", file.toString(), "--data-dir", restoredDir.toString());

    assertThat(restored.exitCode()).isZero();
    assertThat(restored.out())
        .matches(
            "restored "
                + file
                + " into "
                + restoredDir
                + ": revision 3, 2 keys, [0-9.]+ MiB \\([0-9]+ bytes\\) in [0-9.]+s\\R");
    try (EmbeddedStore store = EmbeddedStore.open(restoredDir)) {
      assertThat(store.blocking().list(ListQuery.prefix("")).entries())
          .extracting(entry -> entry.key() + "=" + entry.value())
          .containsExactly("a=1", "b=2");
    }
  }

  @Test
  void snapshotOfADirectoryARunningServerHas_isRefused_pointingToKvSnapshotSave() throws Exception {
    try (DaemonProcess daemon =
        DaemonProcess.startMain("--listen", "127.0.0.1:0", "--data-dir", source.toString())) {
      daemon.awaitListening();

      CommandRun run = run("snapshot", "--data-dir", source.toString(), file.toString());

      assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILED);
      assertThat(run.err())
          .isEqualTo(
              "kv-server: the data directory "
                  + source
                  + " is in use, by a running kv-server or another process; take the snapshot"
                  + " through it (kv snapshot save FILE)"
                  + System.lineSeparator());
      assertThat(file).doesNotExist();
      assertThat(temp.resolve("kv.snapshot.part")).doesNotExist();
    }
  }

  @Test
  void damagedTruncatedOrForeignFiles_exitTwoWithOneLine_andLeaveTheTargetUntouched()
      throws Exception {
    assertThat(run("snapshot", "--data-dir", source.toString(), file.toString()).exitCode())
        .isZero();
    byte[] snapshot = Files.readAllBytes(file);
    Map<String, byte[]> damaged = new LinkedHashMap<>();
    damaged.put("cut in the header", Arrays.copyOf(snapshot, 60));
    damaged.put("cut in the data", Arrays.copyOf(snapshot, snapshot.length / 2));
    damaged.put("cut in the trailer", Arrays.copyOf(snapshot, snapshot.length - 10));
    byte[] flipped = snapshot.clone();
    flipped[snapshot.length / 2] ^= 1;
    damaged.put("a flipped bit", flipped);
    damaged.put("random bytes", randomBytes());
    damaged.put("empty", new byte[0]);
    damaged.put("JSON lines", "{\"key\":\"a\",\"value\":\"1\"}\n".getBytes(StandardCharsets.UTF_8));
    Path target = temp.resolve("target");

    for (Map.Entry<String, byte[]> bad : damaged.entrySet()) {
      Path badFile = Files.write(temp.resolve("bad"), bad.getValue());

      CommandRun run = run("restore", badFile.toString(), "--data-dir", target.toString());

      assertThat(run.exitCode()).as(bad.getKey()).isEqualTo(Main.EXIT_USAGE);
      assertThat(run.err())
          .as(bad.getKey())
          .startsWith("kv-server: cannot restore " + badFile + ": the ")
          .doesNotContain("Exception")
          .hasLineCount(1);
      assertThat(run.out()).isEmpty();
      assertThat(target).as(bad.getKey()).doesNotExist();
    }
  }

  @Test
  void restoreIntoADirectoryHoldingData_exitsTwoWithoutForce_andKeepsTheOldDataAsideWithIt() {
    assertThat(run("snapshot", "--data-dir", source.toString(), file.toString()).exitCode())
        .isZero();
    Path target = temp.resolve("target");
    try (EmbeddedStore store = EmbeddedStore.open(target)) {
      store.blocking().set("old", "data");
    }

    CommandRun refused = run("restore", file.toString(), "--data-dir", target.toString());

    assertThat(refused.exitCode()).isEqualTo(Main.EXIT_USAGE);
    assertThat(refused.err())
        .isEqualTo(
            "kv-server: cannot restore "
                + file
                + ": the data directory "
                + target
                + " holds data; choose a new or empty directory, or force the restore, which"
                + " keeps that data aside in replaced/"
                + System.lineSeparator());
    assertThat(target.resolve("replaced")).doesNotExist();

    CommandRun forced = run("restore", file.toString(), "--data-dir", target.toString(), "--force");

    assertThat(forced.exitCode()).isZero();
    assertThat(forced.out())
        .contains("; the data it held is kept in " + target.resolve("replaced"));
    try (EmbeddedStore store = EmbeddedStore.open(target)) {
      assertThat(store.blocking().get("old")).isEmpty();
      assertThat(store.blocking().get("a")).contains("1");
    }
  }

  @Test
  void snapshotToAFileThatExists_exitsTwo_andLeavesItAlone() throws Exception {
    Files.writeString(file, "mine");

    CommandRun run = run("snapshot", "--data-dir", source.toString(), file.toString());

    assertThat(run.exitCode()).isEqualTo(Main.EXIT_USAGE);
    assertThat(run.err())
        .isEqualTo(
            "kv-server: cannot write the snapshot to "
                + file
                + ": it exists"
                + System.lineSeparator());
    assertThat(file).hasContent("mine");
  }

  @Test
  void filesThatCannotBeReadOrWritten_exitOneWithOneLine() {
    Path missing = temp.resolve("no/such/dir/kv.snapshot");

    assertThat(run("snapshot", "--data-dir", source.toString(), missing.toString()))
        .isEqualTo(
            new CommandRun(
                Main.EXIT_FAILED,
                "",
                "kv-server: cannot write the snapshot to "
                    + missing
                    + ": no such file or directory"
                    + System.lineSeparator()));
    assertThat(run("restore", missing.toString(), "--data-dir", temp.resolve("t").toString()))
        .isEqualTo(
            new CommandRun(
                Main.EXIT_FAILED,
                "",
                "kv-server: cannot restore "
                    + missing
                    + ": no such file or directory"
                    + System.lineSeparator()));
    assertThat(temp.resolve("t")).doesNotExist();
  }

  @Test
  void help_listsTheCommands_andEachDocumentsItsExitCodes() {
    assertThat(run("--help").out()).contains("snapshot").contains("restore");
    assertThat(run("restore", "--help").out())
        .contains("Exit codes:")
        .contains("FILE is damaged, truncated or not a snapshot");
    assertThat(run("snapshot", "--help").out())
        .contains("Exit codes:")
        .contains("kv snapshot save");
  }

  private static CommandRun run(String... args) {
    return CommandRun.execute(Main.commandLine(), args);
  }

  private static byte[] randomBytes() {
    byte[] bytes = new byte[4096];
    new Random(1).nextBytes(bytes);
    return bytes;
  }
}
