package dev.kv.server;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.config.HostPort;
import dev.kv.core.embedded.DataDirectoryDamage;
import dev.kv.core.embedded.EmbeddedStore;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The daemon as users run it: options, errors, and a real process stopped by a signal. */
@Timeout(60)
class MainTest {

  @TempDir Path dataDir;

  @Test
  void sigterm_stopsGracefully_andExitsZero() throws Exception {
    try (DaemonProcess daemon =
        DaemonProcess.startMain("--listen", "127.0.0.1:0", "--data-dir", dataDir.toString())) {
      HostPort address = daemon.awaitListening();
      ManagedChannel channel =
          NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext().build();
      try {
        assertThat(
                HealthGrpc.newBlockingStub(channel)
                    .check(HealthCheckRequest.newBuilder().setService("kv.KV").build())
                    .getStatus())
            .isEqualTo(ServingStatus.SERVING);
      } finally {
        channel.shutdownNow();
      }

      assertThat(daemon.terminate()).isZero();
      daemon.awaitLine(Pattern.compile("stopped$"));
    }
  }

  @Test
  void addressInUse_exitsOneWithOneReadableLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      CommandRun run =
          run("--listen", "127.0.0.1:" + taken.getLocalPort(), "--data-dir", dataDir.toString());

      assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILED);
      assertThat(run.err().strip())
          .isEqualTo(
              "kv-server: cannot listen on 127.0.0.1:"
                  + taken.getLocalPort()
                  + ": address already in use");
    }
  }

  @Test
  void invalidListenAddress_exitsTwoSayingWhatIsExpected() {
    CommandRun run = run("--listen", "9986");

    assertThat(run.exitCode()).isEqualTo(Main.EXIT_USAGE);
    assertThat(run.err())
        .startsWith("kv-server: Invalid value for option '--listen': expected HOST:PORT")
        .contains("(see 'kv-server --help')");
  }

  @Test
  void securityOptionsThatCannotBeUsed_exitTwoWithOneLine() {
    assertThat(run("--tls-cert", "server.pem"))
        .isEqualTo(
            new CommandRun(
                Main.EXIT_USAGE,
                "",
                "kv-server: --tls-cert and --tls-key go together: give both"
                    + " (see 'kv-server --help')\n"));
    assertThat(run("--tls-cert", "/no/server.pem", "--tls-key", "/no/server.key"))
        .isEqualTo(
            new CommandRun(
                Main.EXIT_USAGE,
                "",
                "kv-server: cannot read the certificate /no/server.pem: no such file"
                    + " (see 'kv-server --help')\n"));
    assertThat(run("--auth-token-file", "/no/tokens").err())
        .isEqualTo(
            "kv-server: cannot read the token file /no/tokens: no such file"
                + " (see 'kv-server --help')\n");
    assertThat(
            run(
                    "--store",
                    "etcd",
                    "--etcd-endpoints",
                    "http://127.0.0.1:2379",
                    "--etcd-user",
                    "root")
                .err())
        .isEqualTo(
            "kv-server: --etcd-user needs a password: give --etcd-password-file FILE, or set"
                + " KV_ETCD_PASSWORD (see 'kv-server --help')\n");
  }

  @Test
  void limitsByDefault_areTheServersDefaults() {
    Main main = new Main();
    CommandLine commandLine = Main.commandLine(main);
    commandLine.parseArgs();

    assertThat(main.limits()).isEqualTo(Limits.DEFAULTS);
  }

  @Test
  void limitsThatCannotBeUsed_exitTwoWithOneLine() {
    assertThat(run("--max-value-size", "big").err())
        .isEqualTo(
            "kv-server: --max-value-size: expected a size such as 4096, 4KiB or 2MiB, not 'big'"
                + " (see 'kv-server --help')\n");
    assertThat(run("--max-value-size", "3MiB").err())
        .isEqualTo(
            "kv-server: the largest message (2MiB) must hold the largest key and value (4KiB +"
                + " 3MiB) (see 'kv-server --help')\n");
    assertThat(run("--max-calls", "0").err())
        .isEqualTo(
            "kv-server: calls in progress must be at least 1, not 0 (see 'kv-server --help')\n");
    assertThat(run("--max-bytes-in-progress", "4MiB").err())
        .isEqualTo(
            "kv-server: one connection's share of the bytes in progress (1MiB) must hold the"
                + " largest message (2MiB) (see 'kv-server --help')\n");
    assertThat(run("--max-share-per-address", "0").err())
        .isEqualTo(
            "kv-server: the share per address is a percentage from 1 to 100, not 0 (see"
                + " 'kv-server --help')\n");
    assertThat(run("--max-call-duration", "10s").err())
        .isEqualTo(
            "kv-server: the longest call (10s) must not be shorter than the default deadline"
                + " (30s) (see 'kv-server --help')\n");
  }

  @Test
  void unknownStore_exitsTwoNamingTheChoices() {
    CommandRun run = run("--store", "nosuchstore");

    assertThat(run.exitCode()).isEqualTo(Main.EXIT_USAGE);
    assertThat(run.err()).contains("--store").contains("memory");
  }

  @Test
  void secondServerOnTheSameDataDir_exitsOneSayingItIsInUse() throws Exception {
    try (DaemonProcess first =
        DaemonProcess.startMain("--listen", "127.0.0.1:0", "--data-dir", dataDir.toString())) {
      first.awaitListening();

      CommandRun second = run("--listen", "127.0.0.1:0", "--data-dir", dataDir.toString());

      assertThat(second.exitCode()).isEqualTo(Main.EXIT_FAILED);
      assertThat(second.err().strip())
          .isEqualTo(
              "kv-server: cannot open the data directory "
                  + dataDir
                  + ": it is in use by another process (or by another store in this one); "
                  + "only one may open a data directory at a time");
    }
  }

  @Test
  void dataDirOfSomethingElse_exitsOneWithoutTouchingIt() throws Exception {
    Files.writeString(dataDir.resolve("report.pdf"), "not ours");

    CommandRun run = run("--listen", "127.0.0.1:0", "--data-dir", dataDir.toString());

    assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILED);
    assertThat(run.err().strip())
        .isEqualTo(
            "kv-server: cannot open the data directory "
                + dataDir
                + ": it is not a kv data directory (it holds report.pdf); "
                + "choose an empty or new directory");
    try (var files = Files.list(dataDir)) {
      assertThat(files).containsExactly(dataDir.resolve("report.pdf"));
    }
  }

  @Test
  void damagedWriteAheadLog_exitsOneWithOneLineSayingWhatToDo() throws Exception {
    Path image = dataDir.resolve("image");
    try (EmbeddedStore store = EmbeddedStore.open(dataDir.resolve("live"))) {
      for (int i = 0; i < 100; i++) {
        store.blocking().set("k" + i, "v");
      }
      DataDirectoryDamage.crashImage(dataDir.resolve("live"), image);
    }
    DataDirectoryDamage.lengthenRecord(DataDirectoryDamage.newestLog(image), 8);

    CommandRun run = run("--listen", "127.0.0.1:0", "--data-dir", image.toString());

    assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILED);
    assertThat(run.err().lines())
        .singleElement(as(InstanceOfAssertFactories.STRING))
        .startsWith(
            "kv-server: cannot open the data directory "
                + image
                + ": its write-ahead log is damaged (")
        .endsWith(
            "restore the directory from a backup, or open what can be read of it with --salvage"
                + " (see the README, Recovery)");
  }

  @Test
  void salvageWithAnotherStore_exitsTwoWithOneLine() {
    CommandRun run = run("--store", "memory", "--salvage", "--listen", "127.0.0.1:0");

    assertThat(run.exitCode()).isEqualTo(Main.EXIT_USAGE);
    assertThat(run.err())
        .isEqualTo(
            "kv-server: --salvage is for --store embedded only: a memory store has no log of its"
                + " own to salvage (see 'kv-server --help')\n");
  }

  @Test
  void etcdStoreWithoutEndpoints_exitsTwoSayingWhatIsMissing() {
    CommandRun run = run("--store", "etcd", "--listen", "127.0.0.1:0");

    assertThat(run.exitCode()).isEqualTo(Main.EXIT_USAGE);
    assertThat(run.err()).startsWith("kv-server: --store etcd needs --etcd-endpoints");
  }

  @Test
  void help_documentsEveryOptionItsEnvironmentVariableAndTheExitCodes() {
    CommandRun run = run("--help");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .contains("--listen", "KV_LISTEN", "127.0.0.1:9986")
        .contains("--store", "KV_STORE", "embedded")
        .contains("--data-dir", "KV_DATA_DIR", "kv-data")
        .contains("--shutdown-grace", "KV_SHUTDOWN_GRACE")
        .contains("--shutdown-drain", "KV_SHUTDOWN_DRAIN")
        .contains("--etcd-endpoints", "KV_ETCD_ENDPOINTS", "--etcd-authority", "--etcd-timeout")
        .contains("--read-cache", "KV_READ_CACHE")
        .contains("--salvage")
        .contains("Exit codes:");
  }

  private static CommandRun run(String... args) {
    return CommandRun.execute(Main.commandLine(), args);
  }
}
