package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.config.HostPort;
import dev.kv.core.embedded.EmbeddedStore;
import dev.kv.server.DaemonProcess;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kv list} of the prefix that once made a 90 MB answer, as processes of their own: the CLI
 * in a heap of a third of that prints every value, a page at a time, from a kv-server run as users
 * run it, on loopback.
 */
@Timeout(120)
class LargeListingCliTest {

  /** The listing that exhausted the server and that the CLI could not list: 90 MB in all. */
  private static final int VALUES = 60;

  private static final int VALUE_BYTES = 1_500_000;

  /** Far less than the prefix holds: the CLI can only list it a page at a time. */
  private static final String CLI_HEAP = "-Xmx32m";

  @TempDir Path dataDir;

  @Test
  void list_prefixOfThreeTimesTheClientsHeap_printsEveryValue() throws Exception {
    String filler = "v".repeat(VALUE_BYTES - 4);
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      List<CompletableFuture<Long>> writes = new ArrayList<>();
      for (int i = 0; i < VALUES; i++) {
        writes.add(store.set(String.format("big/%04d", i), String.format("%04d", i) + filler));
      }
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    }
    try (DaemonProcess server =
        DaemonProcess.startMain(
            DaemonProcess.launcherJvmOptions(),
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dataDir.toString())) {
      HostPort address = server.awaitListening();
      String java =
          System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
      Process kv =
          new ProcessBuilder(
                  java,
                  CLI_HEAP,
                  "-cp",
                  System.getProperty("java.class.path"),
                  Main.class.getName(),
                  "--server",
                  address.toString(),
                  "list",
                  "big/")
              .redirectError(ProcessBuilder.Redirect.PIPE)
              .start();
      CompletableFuture<String> err =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return new String(kv.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (Exception e) {
                  return e.toString();
                }
              });

      // Read as it comes, line by line, keeping only what is wrong.
      List<String> problems = new ArrayList<>();
      int lines = 0;
      try (BufferedReader out =
          new BufferedReader(new InputStreamReader(kv.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          String number = String.format("%04d", lines);
          if (!line.startsWith("big/" + number + "\t" + number)
              || line.length() != "big/0000\t".length() + VALUE_BYTES) {
            problems.add(
                "line " + lines + " starts " + line.substring(0, Math.min(20, line.length())));
          }
          lines++;
        }
      }

      assertThat(kv.waitFor(60, TimeUnit.SECONDS)).as("kv list ends").isTrue();
      assertThat(kv.exitValue()).as(err.get(10, TimeUnit.SECONDS)).isZero();
      assertThat(lines).isEqualTo(VALUES);
      assertThat(problems).isEmpty();
    }
  }
}
