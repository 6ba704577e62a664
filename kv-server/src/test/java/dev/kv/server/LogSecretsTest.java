package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.kv.core.KvStore;
import dev.kv.core.config.HostPort;
import dev.kv.core.etcd.EtcdCluster;
import dev.kv.core.remote.RemoteStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets given to kv-server, through its options, its environment and its calls, appear nowhere in
 * its log, even at debug level with the access log on, in either format.
 */
@Timeout(180)
class LogSecretsTest {

  private static final String ETCD_PASSWORD = "etcd-password-6f1c2a";
  private static final String TOKEN = "bearer-token-93be07";
  private static final String WRONG_TOKEN = "wrong-token-d41d8c";
  private static final String VALUE = "written-value-c0ffee";

  private static EtcdCluster etcd;

  @TempDir Path files;

  @BeforeAll
  static void startEtcd() throws Exception {
    etcd = EtcdCluster.ofMembers(1).withAuth(ETCD_PASSWORD, Duration.ofSeconds(60)).start();
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.close();
    }
  }

  @Test
  void text_withThePasswordInAFile() throws Exception {
    Path passwordFile = Files.writeString(files.resolve("etcd-password"), ETCD_PASSWORD + "\n");
    assertNoSecretIn(
        serve(Map.of(), "--log-format", "text", "--etcd-password-file", passwordFile.toString()));
  }

  @Test
  void json_withThePasswordInTheEnvironment() throws Exception {
    assertNoSecretIn(serve(Map.of("KV_ETCD_PASSWORD", ETCD_PASSWORD), "--log-format", "json"));
  }

  /** Runs a server at debug level with the access log on, calls it, stops it: its whole output. */
  private String serve(Map<String, String> environment, String... options) throws Exception {
    Path tokenFile = Files.writeString(files.resolve("tokens"), TOKEN + "\n");
    List<String> args =
        new ArrayList<>(
            List.of(
                "--listen",
                "127.0.0.1:0",
                "--store",
                "etcd",
                "--etcd-endpoints",
                etcd.endpoints().toString(),
                "--etcd-user",
                "root",
                "--auth-token-file",
                tokenFile.toString(),
                "--log-level",
                "debug",
                "--access-log"));
    args.addAll(List.of(options));
    try (DaemonProcess daemon = DaemonProcess.startMain(environment, args.toArray(String[]::new))) {
      HostPort address = daemon.awaitListening();
      daemon.awaitLine(Pattern.compile("health is SERVING"));
      try (KvStore client = RemoteStore.builder().server(address).bearerToken(TOKEN).build()) {
        client.blocking().set("secret/key", VALUE);
        assertThat(client.blocking().get("secret/key")).contains(VALUE);
      }
      try (KvStore stranger =
          RemoteStore.builder().server(address).bearerToken(WRONG_TOKEN).build()) {
        assertThat(catchThrowable(() -> stranger.blocking().set("secret/other", VALUE)))
            .isNotNull();
      }
      daemon.awaitLine(
          Pattern.compile("kv\\.KV/Set.*UNAUTHENTICATED|UNAUTHENTICATED.*kv\\.KV/Set"));
      assertThat(daemon.terminate()).isZero();
      daemon.awaitLine(Pattern.compile("stopped"));
      return daemon.output();
    }
  }

  private static void assertNoSecretIn(String output) {
    assertThat(output)
        .contains("listening on")
        .doesNotContain(ETCD_PASSWORD, TOKEN, WRONG_TOKEN, VALUE);
  }
}
