package dev.kv.cli;

import static dev.kv.core.embedded.DataDirectoryDamage.flipBit;
import static dev.kv.core.embedded.DataDirectoryDamage.lengthenRecord;
import static dev.kv.core.embedded.DataDirectoryDamage.newestLog;
import static dev.kv.core.embedded.DataDirectoryDamage.tableOf;
import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvStore;
import dev.kv.core.remote.RemoteStore;
import dev.kv.server.CommandRun;
import dev.kv.server.DaemonProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/kv-server} on a data directory whose files were damaged, and {@code bin/kv} against
 * it: damage is an error of one line, never a short answer, and a damaged write-ahead log stops the
 * start until {@code --salvage} opens what can be read.
 */
@Timeout(300)
class DamagedDataIT {

  private static final Path ROOT = Path.of(System.getProperty("kv.root")).toAbsolutePath();

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path dataDir;

  @Test
  void listOverADamagedTable_exitsSixWithOneLine() throws Exception {
    try (DaemonProcess server = startServer()) {
      try (KvStore client = RemoteStore.connect(server.awaitListening(), TIMEOUT)) {
        IntStream.range(0, 3_000)
            .mapToObj(i -> client.set(key(i), ("value " + i + " ").repeat(10)))
            .toList()
            .forEach(CompletableFuture::join);
      }
      assertThat(server.terminate()).isZero(); // a clean stop writes the table files
    }
    flipBit(tableOf(dataDir, "entries"), 0.5);

    try (DaemonProcess server = startServer()) {
      String target = server.awaitListening().toString();

      CommandRun list = run(kv(target, "list", "key/", "--keys-only"));

      assertThat(list.exitCode()).isEqualTo(6);
      assertThat(list.err().lines())
          .singleElement(as(InstanceOfAssertFactories.STRING))
          .startsWith("kv: cannot read the data directory " + dataDir + " back, it is damaged (")
          .contains("block checksum mismatch")
          .endsWith("); restore it from a backup");
      assertThat(list.out().lines().count()).isLessThan(3_000);
      assertThat(server.output()).contains("WARN", "cannot read the data directory");
    }
  }

  @Test
  void logDamagedAfterAKill_stopsTheStart_andSalvageServesWhatCanBeRead() throws Exception {
    try (DaemonProcess server = startServer()) {
      try (KvStore client = RemoteStore.connect(server.awaitListening(), TIMEOUT)) {
        for (int i = 0; i < 300; i++) {
          client.blocking().set(key(i), "value " + i);
        }
      }
      server.kill();
    }
    lengthenRecord(newestLog(dataDir), 8);

    CommandRun refused = run(server());

    assertThat(refused.exitCode()).isEqualTo(1);
    assertThat(refused.err().lines())
        .singleElement(as(InstanceOfAssertFactories.STRING))
        .startsWith(
            "kv-server: cannot open the data directory "
                + dataDir
                + ": its write-ahead log is damaged (the record at byte ")
        .contains("--salvage");

    List<String> salvage = new ArrayList<>(server());
    salvage.add("--salvage");
    try (DaemonProcess server = DaemonProcess.start(salvage)) {
      String target = server.awaitListening().toString();

      assertThat(server.output())
          .containsPattern(Pattern.compile("salvaging the data directory .*is kept in .*salvaged/"))
          .contains("salvaged the data directory " + dataDir + ": it holds what could be read");
      CommandRun list = run(kv(target, "list", "key/", "--keys-only"));
      assertThat(list.exitCode()).isZero();
      assertThat(list.out().lines().toList())
          .containsExactlyElementsOf(IntStream.range(0, 291).mapToObj(i -> key(i)).toList());
    }
  }

  private static String key(int i) {
    return String.format("key/%05d", i);
  }

  /** {@code bin/kv-server} on this test's directory. */
  private List<String> server() {
    return List.of(
        launcher("kv-server"), "--listen", "127.0.0.1:0", "--data-dir", dataDir.toString());
  }

  private DaemonProcess startServer() throws Exception {
    return DaemonProcess.start(server());
  }

  private static List<String> kv(String server, String... args) {
    List<String> command = new ArrayList<>(List.of(launcher("kv"), "--server", server));
    command.addAll(List.of(args));
    return command;
  }

  private static CommandRun run(List<String> command) throws Exception {
    return CommandRun.ofProcess(command, Duration.ofSeconds(90));
  }

  private static String launcher(String name) {
    return ROOT.resolve("bin").resolve(name).toString();
  }
}
