package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.config.HostPort;
import dev.kv.core.embedded.EmbeddedStore;
import dev.kv.server.CommandRun;
import dev.kv.server.DaemonProcess;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kv export} and {@code kv import} of three times the client's heap, as processes of their
 * own, from and to kv-servers run as users run them: both stream, a page at a time.
 */
@Timeout(300)
class LargeExportCliTest {

  private static final int VALUES = 60;

  private static final int VALUE_BYTES = 1_500_000;

  /** Far less than the 90 MB exported: the CLI can only export it a page at a time. */
  private static final String CLI_HEAP = "-Xmx32m";

  @TempDir Path dir;

  @Test
  void exportAndImport_ofThreeTimesTheClientsHeap_holdEveryValue() throws Exception {
    Path source = dir.resolve("source");
    try (EmbeddedStore store = EmbeddedStore.open(source)) {
      List<CompletableFuture<Long>> writes = new ArrayList<>();
      for (int i = 0; i < VALUES; i++) {
        writes.add(
            store.set(
                String.format("big/%04d", i), String.format("%04d", i).repeat(VALUE_BYTES / 4)));
      }
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    }
    Path file = dir.resolve("big.jsonl");
    try (DaemonProcess server = server(source)) {
      CommandRun export = kv(server.awaitListening(), "export", "-f", file.toString());
      assertThat(export.exitCode()).as(export.err()).isZero();
      assertThat(export.err()).startsWith("exported 60 keys at revision ");
    }
    assertThat(Files.size(file)).isGreaterThan((long) VALUES * VALUE_BYTES);

    try (DaemonProcess server = server(dir.resolve("target"))) {
      HostPort address = server.awaitListening();
      CommandRun imported = kv(address, "import", "-f", file.toString());
      assertThat(imported.exitCode()).as(imported.err()).isZero();
      assertThat(imported.out()).startsWith("imported 60 keys (0 skipped) into ");
      for (int i = 0; i < VALUES; i += 7) {
        String[] get = {"--server", address.toString(), "get", String.format("big/%04d", i)};
        assertThat(CommandRun.execute(Cli.commandLine(get), get).out())
            .isEqualTo(String.format("%04d", i).repeat(VALUE_BYTES / 4) + "\n");
      }
    }
  }

  private static DaemonProcess server(Path dataDir) throws Exception {
    return DaemonProcess.startMain(
        DaemonProcess.launcherJvmOptions(),
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dataDir.toString());
  }

  private static CommandRun kv(HostPort server, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                CLI_HEAP,
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "--server",
                server.toString()));
    command.addAll(List.of(args));
    return CommandRun.ofProcess(command, Duration.ofSeconds(200));
  }
}
