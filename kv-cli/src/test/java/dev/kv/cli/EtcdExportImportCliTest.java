package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.kv.core.config.HostPort;
import dev.kv.core.embedded.EmbeddedStore;
import dev.kv.core.etcd.EtcdCluster;
import dev.kv.server.CommandRun;
import dev.kv.server.KvServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Moving keys from the embedded store to etcd with {@code kv export} and {@code kv import}. */
@Timeout(180)
class EtcdExportImportCliTest {

  @RegisterExtension static final EtcdCluster etcd = EtcdCluster.ofMembers(1);

  @TempDir Path dir;

  @BeforeEach
  void emptyEtcd() {
    etcd.deleteAllKeys();
  }

  @Test
  void embeddedToEtcd_andExportedAgain_givesTheSameKeysAndValues() throws Exception {
    Path fromEmbedded = dir.resolve("embedded.jsonl");
    Path fromEtcd = dir.resolve("etcd.jsonl");
    String endpoints = etcd.endpoints().toString();
    try (EmbeddedStore embedded = EmbeddedStore.open(dir.resolve("data"))) {
      for (int i = 0; i < 1500; i++) {
        embedded.blocking().set(String.format("app/%05d", i), "value ☃ " + i);
      }
      embedded.blocking().set("app/with-ttl", "expires", Duration.ofHours(1));
      embedded.blocking().set("empty", "");
      KvServer server = KvServer.listeningOn(new HostPort("127.0.0.1", 0), embedded).start();
      try {
        assertThat(
                kv("--server", server.address().toString(), "export", "-f", fromEmbedded.toString())
                    .exitCode())
            .isZero();
      } finally {
        server.stop(Duration.ZERO);
      }
    }

    CommandRun imported =
        kv("--etcd-endpoints", endpoints, "import", "-f", fromEmbedded.toString());
    CommandRun exported = kv("--etcd-endpoints", endpoints, "export", "-f", fromEtcd.toString());

    assertThat(imported.out())
        .startsWith("imported 1502 keys (0 skipped) into etcd at " + endpoints + " in ");
    assertThat(exported.err()).startsWith("exported 1502 keys at revision ");
    assertThat(keysAndValues(fromEtcd)).isEqualTo(keysAndValues(fromEmbedded)).hasSize(1502);
    assertThat(header(fromEtcd).get("store").getAsString()).isEqualTo("etcd");
    assertThat(header(fromEtcd).get("source").getAsString()).isEqualTo("etcd at " + endpoints);
    // Through etcd's own client too.
    assertThat(
            new String(
                etcd.etcdctl("get", "app/00007", "--print-value-only"),
                java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo("value ☃ 7\n");
  }

  @Test
  void etcdSnapshotFile_isRefusedAsNotAnExport_etcdUntouched() throws Exception {
    String endpoints = etcd.endpoints().toString();
    kv("--etcd-endpoints", endpoints, "set", "kept", "as it was");
    Path snapshot = dir.resolve("etcd.db");
    etcd.etcdctl("snapshot", "save", snapshot.toString());

    CommandRun run =
        kv(
            "--etcd-endpoints",
            endpoints,
            "import",
            "-f",
            snapshot.toString(),
            "--on-conflict",
            "overwrite");

    assertThat(run)
        .isEqualTo(
            new CommandRun(
                2,
                "",
                "kv: "
                    + snapshot
                    + " is not a kv export: its first line is not a kv-export header\n"));
    assertThat(kv("--etcd-endpoints", endpoints, "list").out()).isEqualTo("kept\tas it was\n");
  }

  /** Each key line without its revisions, which the target's own writes gave. */
  private static List<String> keysAndValues(Path file) throws Exception {
    List<String> lines = Files.readAllLines(file);
    return lines.subList(1, lines.size() - 1).stream()
        .map(line -> JsonParser.parseString(line).getAsJsonObject())
        .map(entry -> entry.get("key").getAsString() + "=" + entry.get("value").getAsString())
        .toList();
  }

  private static JsonObject header(Path file) throws Exception {
    return JsonParser.parseString(Files.readAllLines(file).get(0)).getAsJsonObject();
  }

  private static CommandRun kv(String... args) {
    return CommandRun.execute(Cli.commandLine(args), args);
  }
}
