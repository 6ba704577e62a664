package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvStore;
import dev.kv.core.StoreValues;
import dev.kv.core.config.HostPort;
import dev.kv.core.embedded.EmbeddedSnapshots;
import dev.kv.core.embedded.EmbeddedStore;
import dev.kv.core.etcd.EtcdCluster;
import dev.kv.core.etcd.EtcdStore;
import dev.kv.core.memory.MemoryStore;
import dev.kv.server.CommandRun;
import dev.kv.server.KvServer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code kv snapshot save}, straight from etcd and through kv-server, restored by etcdctl. */
@Timeout(180)
class SnapshotCliTest {

  private static final Pattern SAVED =
      Pattern.compile(
          "saved a snapshot of (.+) at revision (\\d+) \\((\\d+) bytes, format etcd\\) to (.+)\n"
              + "restore it with: etcdctl snapshot restore .+\n");

  @RegisterExtension static final EtcdCluster etcd = EtcdCluster.ofMembers(1);

  private static EtcdStore store;
  private static KvServer server;

  @TempDir Path directory;

  @BeforeAll
  static void startServer() throws Exception {
    store = EtcdStore.builder().endpoints(etcd.endpoints()).build();
    server = KvServer.listeningOn(new HostPort("127.0.0.1", 0), store).start();
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.stop(Duration.ZERO);
    store.close();
  }

  @Test
  void save_straightFromEtcd_whileWritersRun_isRestoredByEtcdctl() throws Exception {
    Path file = directory.resolve("direct.db");

    Map<String, String> before = writeKeys("direct/");
    CommandRun save =
        whileWriting(
            () -> kv("--etcd-endpoints", endpoints(), "snapshot", "save", file.toString()));

    assertSavedAndRestored(save, file, "etcd at " + endpoints(), before);
  }

  @Test
  void save_throughKvServerOnEtcd_whileWritersRun_isRestoredByEtcdctl() throws Exception {
    Path file = directory.resolve("served.db");

    Map<String, String> before = writeKeys("served/");
    CommandRun save =
        whileWriting(
            () -> kv("--server", server.address().toString(), "snapshot", "save", file.toString()));

    assertSavedAndRestored(save, file, "kv-server at " + server.address(), before);
  }

  @Test
  void save_throughKvServerOnTheEmbeddedStore_isRestoredAsKvServerRestoreDoes() throws Exception {
    Path file = directory.resolve("embedded.snapshot");
    Path restoredDir = directory.resolve("restored");
    try (EmbeddedStore embedded = EmbeddedStore.open(directory.resolve("data"))) {
      embedded.blocking().set("greeting", "hello");
      KvServer onEmbedded = KvServer.listeningOn(new HostPort("127.0.0.1", 0), embedded).start();
      try {
        CommandRun save =
            kv("--server", onEmbedded.address().toString(), "snapshot", "save", file.toString());

        assertThat(save.exitCode()).as(save.err()).isZero();
        assertThat(save.out())
            .contains("(" + Files.size(file) + " bytes, format kv-embedded) to " + file)
            .contains("restore it with: kv-server restore " + file + " --data-dir NEW_DIR");
      } finally {
        onEmbedded.stop(Duration.ZERO);
      }
    }

    // What kv-server restore does with the file.
    try (InputStream in = Files.newInputStream(file)) {
      EmbeddedSnapshots.restore(in, restoredDir, false);
    }
    try (EmbeddedStore restored = EmbeddedStore.open(restoredDir)) {
      assertThat(restored.blocking().get("greeting")).contains("hello");
    }
  }

  @Test
  void save_overAnExistingFile_isRefused_unlessForced() throws Exception {
    Path file = directory.resolve("kept.db");
    Files.writeString(file, "mine");

    CommandRun refused = kv("--etcd-endpoints", endpoints(), "snapshot", "save", file.toString());

    assertThat(refused.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(refused.err()).contains(file + " exists; --force replaces it").hasLineCount(1);
    assertThat(Files.readString(file)).isEqualTo("mine");

    CommandRun forced =
        kv("--etcd-endpoints", endpoints(), "snapshot", "save", "--force", file.toString());
    assertThat(forced.exitCode()).as(forced.err()).isZero();
    assertThat(Files.size(file)).isGreaterThan(4);
  }

  @Test
  void save_ofTheMemoryStore_failsInOneLine_withExitCode3_leavingNoFile() throws Exception {
    Path file = directory.resolve("memory.db");
    try (MemoryStore memory = new MemoryStore()) {
      KvServer onMemory = KvServer.listeningOn(new HostPort("127.0.0.1", 0), memory).start();
      try {
        CommandRun save =
            kv("--server", onMemory.address().toString(), "snapshot", "save", file.toString());

        assertThat(save.exitCode()).isEqualTo(ExitCodes.FAILED);
        assertThat(save.out()).isEmpty();
        assertThat(save.err())
            .startsWith("kv: the memory store takes no snapshot")
            .contains("kv export")
            .hasLineCount(1);
      } finally {
        onMemory.stop(Duration.ZERO);
      }
    }
    assertThat(directory).isEmptyDirectory();
  }

  @Test
  void saveHelp_saysWhatRestoresEachFile_andTheExitCodes() {
    CommandRun help = kv("snapshot", "save", "--help");

    assertThat(help.exitCode()).isZero();
    assertThat(help.out())
        .contains("etcdctl snapshot restore", "kv-server restore", "FILE.part", "--force")
        .contains("3 on the memory store")
        .contains("Global options:", "--etcd-endpoints");
  }

  @Test
  void save_failing_leavesNeitherTheFileNorThePart() throws Exception {
    Path file = directory.resolve("unreached.db");

    CommandRun save =
        kv("--server", "127.0.0.1:1", "--timeout", "2s", "snapshot", "save", file.toString());

    assertThat(save.exitCode()).isEqualTo(ExitCodes.FAILED);
    assertThat(save.err()).hasLineCount(1);
    assertThat(directory).isEmptyDirectory();
  }

  private void assertSavedAndRestored(
      CommandRun save, Path file, String storeName, Map<String, String> before) throws Exception {
    assertThat(save.exitCode()).as(save.err()).isZero();
    Matcher saved = SAVED.matcher(save.out());
    assertThat(saved.matches()).as(save.out()).isTrue();
    assertThat(saved.group(1)).isEqualTo(storeName);
    assertThat(saved.group(4)).isEqualTo(file.toString());
    assertThat(Long.parseLong(saved.group(3))).isEqualTo(Files.size(file));
    assertThat(Files.exists(file.resolveSibling(file.getFileName() + ".part"))).isFalse();
    long revision = Long.parseLong(saved.group(2));
    try (EtcdCluster restored = EtcdCluster.ofMembers(1).restoredFrom(file).start();
        KvStore restoredStore = EtcdStore.builder().endpoints(restored.endpoints()).build()) {
      assertThat(allKeys(restoredStore)).containsAllEntriesOf(before);
      assertThat(restoredStore.status().get().revision()).isGreaterThanOrEqualTo(revision);
    }
  }

  private static Map<String, String> writeKeys(String prefix) throws Exception {
    Map<String, String> written = new HashMap<>();
    List<CompletableFuture<Long>> writes = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      String value = "value " + i + " ".repeat(500);
      written.put(prefix + i, value);
      writes.add(store.set(prefix + i, value));
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get();
    return written;
  }

  /** Runs {@code save} while another client writes keys. */
  private static CommandRun whileWriting(java.util.function.Supplier<CommandRun> save)
      throws Exception {
    AtomicBoolean writing = new AtomicBoolean(true);
    Thread writer =
        new Thread(
            () -> {
              for (int i = 0; writing.get(); i++) {
                store.set("during/" + i, "" + i).join();
              }
            });
    writer.start();
    try {
      return save.get();
    } finally {
      writing.set(false);
      writer.join();
    }
  }

  private static Map<String, String> allKeys(KvStore store) {
    return StoreValues.of(store);
  }

  private static String endpoints() {
    return etcd.endpoints().toString();
  }

  private static CommandRun kv(String... args) {
    return CommandRun.execute(Cli.commandLine(args), args);
  }
}
