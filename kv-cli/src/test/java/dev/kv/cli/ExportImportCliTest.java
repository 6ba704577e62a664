package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvStore;
import dev.kv.core.StoreValues;
import dev.kv.core.config.HostPort;
import dev.kv.core.embedded.EmbeddedStore;
import dev.kv.server.CommandRun;
import dev.kv.server.KvServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kv export} and {@code kv import} between kv-servers on the embedded store, on loopback.
 */
@Timeout(120)
class ExportImportCliTest {

  @TempDir Path dir;

  private EmbeddedStore sourceStore;
  private EmbeddedStore targetStore;
  private KvServer source;
  private KvServer target;

  @BeforeEach
  void startServers() throws Exception {
    sourceStore = EmbeddedStore.open(dir.resolve("source-data"));
    targetStore = EmbeddedStore.open(dir.resolve("target-data"));
    source = KvServer.listeningOn(new HostPort("127.0.0.1", 0), sourceStore).start();
    target = KvServer.listeningOn(new HostPort("127.0.0.1", 0), targetStore).start();
  }

  @AfterEach
  void stopServers() throws Exception {
    source.stop(Duration.ZERO);
    target.stop(Duration.ZERO);
    sourceStore.close();
    targetStore.close();
  }

  @Test
  void exportToAFile_thenImport_givesTheTargetTheSameKeys() throws Exception {
    fill(sourceStore, 2500);
    long revision = sourceStore.blocking().set("z/ünï€ode", "snow ☃\n\"quoted\"");
    Path file = dir.resolve("backup.jsonl");

    CommandRun export = kv(source, "export", "-f", file.toString());
    CommandRun imported = kv(target, "import", "-f", file.toString());

    assertThat(export)
        .isEqualTo(
            new CommandRun(
                0, "", "exported 2501 keys at revision " + revision + " to " + file + "\n"));
    assertThat(dir.resolve("backup.jsonl.part")).doesNotExist();
    assertThat(imported.exitCode()).isZero();
    assertThat(imported.err()).isEmpty();
    assertThat(imported.out())
        .matches(
            Pattern.quote("imported 2501 keys (0 skipped) into kv-server at " + target.address())
                + " in \\d+\\.\\d s\n");
    assertThat(values(targetStore)).isEqualTo(values(sourceStore)).hasSize(2501);
    assertThat(Files.readString(file).lines().findFirst().orElseThrow())
        .contains(
            "\"store\":\"embedded\",\"source\":\"kv-server at " + source.address() + "\"",
            "\"revision\":" + revision);
  }

  @Test
  void exportOfAPrefix_toStandardOutput_importFromStandardInput() throws Exception {
    fill(sourceStore, 10);
    sourceStore.blocking().set("other", "not exported");
    ByteArrayOutputStream exported = new ByteArrayOutputStream();

    CommandRun export = withStandardOutput(exported, () -> kv(source, "export", "k/"));
    CommandRun imported = withStandardInput(exported.toByteArray(), () -> kv(target, "import"));

    assertThat(export.err())
        .startsWith("exported 10 keys at revision ")
        .endsWith(" to standard output\n");
    assertThat(imported.out()).startsWith("imported 10 keys (0 skipped) into ");
    assertThat(values(targetStore))
        .containsOnlyKeys(
            values(sourceStore).keySet().stream().filter(k -> k.startsWith("k/")).toList());
  }

  @Test
  void truncatedFile_exitsTwoWithOneLine_targetUntouched() throws Exception {
    byte[] whole = exported(40);

    assertRefused(Arrays.copyOf(whole, whole.length * 2 / 3), "is damaged: line ");
  }

  @Test
  void fileCutAtALineEnd_exitsTwo_andForceImportsItWithAWarning() throws Exception {
    byte[] whole = exported(40);
    String text = new String(whole, StandardCharsets.UTF_8);
    byte[] cut = Arrays.copyOf(whole, text.lastIndexOf('\n', text.length() - 2) + 1);

    assertRefused(
        cut, "is truncated: it ends after 40 keys, without its trailer; --force imports it anyway");
    Path file = write(cut);
    CommandRun forced =
        kv(target, "import", "-f", file.toString(), "--force", "--on-conflict", "overwrite");
    assertThat(forced.exitCode()).isZero();
    assertThat(forced.err())
        .isEqualTo(
            "kv: warning: "
                + file
                + " is truncated: it ends after 40 keys, without its trailer; imported (--force)\n");
    assertThat(values(targetStore)).hasSize(41);
  }

  @Test
  void aBitFlippedInTheMiddle_exitsTwo_targetUntouched() throws Exception {
    byte[] damaged = exported(40);
    damaged[damaged.length / 2] ^= 0x02;

    assertRefused(damaged, "is d");
  }

  @Test
  void countThatDoesNotMatch_exitsTwo_targetUntouched() throws Exception {
    String whole = new String(exported(40), StandardCharsets.UTF_8);

    assertRefused(
        whole.replace("{\"count\":40,", "{\"count\":39,").getBytes(StandardCharsets.UTF_8),
        "its trailer counts 39 keys, but it holds 40; --force imports it anyway");
  }

  @Test
  void randomBytes_exitTwo_asNotAnExport() throws Exception {
    byte[] random = new byte[64 * 1024];
    new Random(7).nextBytes(random);

    assertRefused(random, "is not a kv export: its first line is not a kv-export header");
  }

  @Test
  void emptyFile_exitsTwo() throws Exception {
    assertRefused(new byte[0], "is empty: it is not a kv export");
  }

  @Test
  void missingFile_exitsTwo() {
    CommandRun run = kv(target, "import", "-f", dir.resolve("nowhere.jsonl").toString());

    assertThat(run)
        .isEqualTo(
            new CommandRun(2, "", "kv: no such file: " + dir.resolve("nowhere.jsonl") + "\n"));
  }

  @Test
  void fileThatIsADirectory_exitsTwo() {
    CommandRun run = kv(target, "import", "-f", dir.toString());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).startsWith("kv: cannot read " + dir + ": ").hasLineCount(1);
  }

  @Test
  void onConflictFail_exitsOneNamingTheKey_writingNothing() throws Exception {
    Path file = write(exported(5));
    targetStore.blocking().set("k/00003", "theirs");
    Map<String, String> before = values(targetStore);

    CommandRun run = kv(target, "import", "-f", file.toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err())
        .isEqualTo(
            "kv: key 'k/00003' of "
                + file
                + " exists in kv-server at "
                + target.address()
                + "; nothing was written (--on-conflict skip or overwrite imports it)\n");
    assertThat(values(targetStore)).isEqualTo(before);
  }

  @Test
  void onConflictSkip_countsWhatItKept() throws Exception {
    Path file = write(exported(5));
    targetStore.blocking().set("k/00003", "theirs");

    CommandRun run = kv(target, "import", "-f", file.toString(), "--on-conflict", "skip");

    assertThat(run.out()).startsWith("imported 4 keys (1 skipped) into ");
    assertThat(targetStore.blocking().get("k/00003")).contains("theirs");
  }

  @Test
  void exportThatFails_leavesNoFile() throws Exception {
    String closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = "127.0.0.1:" + socket.getLocalPort();
    }
    Path file = dir.resolve("never.jsonl");

    CommandRun run =
        CommandRun.execute(Cli.commandLine(), "--server", closed, "export", "-f", file.toString());

    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.err()).isEqualTo("kv: cannot reach kv-server at " + closed + "\n");
    assertThat(file).doesNotExist();
    assertThat(dir.resolve("never.jsonl.part")).doesNotExist();
  }

  @Test
  void importHelp_saysWhatItRefuses() {
    assertThat(kv(target, "import", "--help").out())
        .contains("value_base64", "--on-conflict", "--force", "2   invalid usage or input");
  }

  /** Imports {@code bytes}: refused in one line with exit code 2, the target as it was. */
  private void assertRefused(byte[] bytes, String saying) throws Exception {
    targetStore.blocking().set("already", "here");
    Map<String, String> before = values(targetStore);
    Path file = write(bytes);

    CommandRun run = kv(target, "import", "-f", file.toString(), "--on-conflict", "overwrite");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).startsWith("kv: " + file).contains(saying).hasLineCount(1);
    assertThat(values(targetStore)).isEqualTo(before);
  }

  private byte[] exported(int keys) throws Exception {
    fill(sourceStore, keys);
    sourceStore.blocking().set("last", "v");
    Path file = dir.resolve("whole.jsonl");
    assertThat(kv(source, "export", "k/", "-f", file.toString()).exitCode()).isZero();
    return Files.readAllBytes(file);
  }

  private Path write(byte[] bytes) throws Exception {
    Path file = Files.createTempFile(dir, "import", ".jsonl");
    Files.write(file, bytes);
    return file;
  }

  private static void fill(KvStore store, int keys) {
    for (int i = 0; i < keys; i++) {
      store.blocking().set(String.format("k/%05d", i), "value " + i + " " + "x".repeat(i % 50));
    }
  }

  static Map<String, String> values(KvStore store) {
    return StoreValues.of(store);
  }

  private static CommandRun kv(KvServer server, String... args) {
    String[] withServer = new String[args.length + 2];
    withServer[0] = "--server";
    withServer[1] = server.address().toString();
    System.arraycopy(args, 0, withServer, 2, args.length);
    return CommandRun.execute(Cli.commandLine(withServer), withServer);
  }

  static CommandRun withStandardOutput(ByteArrayOutputStream out, Supplier<CommandRun> run) {
    PrintStream was = System.out;
    System.setOut(new PrintStream(out, true));
    try {
      return run.get();
    } finally {
      System.setOut(was);
    }
  }

  static CommandRun withStandardInput(byte[] in, Supplier<CommandRun> run) {
    InputStream was = System.in;
    System.setIn(new ByteArrayInputStream(in));
    try {
      return run.get();
    } finally {
      System.setIn(was);
    }
  }
}
