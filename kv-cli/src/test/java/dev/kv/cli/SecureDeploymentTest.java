package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.etcd.EtcdCluster;
import dev.kv.core.tls.Certificates;
import dev.kv.server.CommandRun;
import dev.kv.server.DaemonProcess;
import java.nio.charset.StandardCharsets;
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
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole system secured, as an operator would run it: etcd serving mutual TLS with
 * authentication on (tokens that expire 2 seconds after their last use), kv-server as its own
 * process reaching it with a client certificate and a user, and serving mutual TLS with tokens
 * itself; {@code kv} through kv-server and directly to etcd.
 */
@Timeout(120)
class SecureDeploymentTest {

  private static final String ETCD_PASSWORD = "etcd-root-secret";
  private static final String TOKEN = "kv-client-token";

  private static final Certificates certificates = Certificates.generate();

  @RegisterExtension
  static final EtcdCluster etcd =
      EtcdCluster.ofMembers(1).withTls(certificates).withAuth(ETCD_PASSWORD, Duration.ofSeconds(2));

  private static Path passwordFile;
  private static Path tokenFile;
  private static DaemonProcess server;
  private static String address;

  @BeforeAll
  static void startServer() throws Exception {
    passwordFile =
        Files.writeString(certificates.directory().resolve("etcd-password"), ETCD_PASSWORD + "\n");
    tokenFile = Files.writeString(certificates.directory().resolve("tokens"), TOKEN + "\n");
    server = DaemonProcess.startMain(serverArgs(passwordFile));
    address = server.awaitListening().toString();
    server.awaitLine(Pattern.compile("health is SERVING"));
  }

  private static String[] serverArgs(Path etcdPasswordFile) {
    return new String[] {
      "--listen", "127.0.0.1:0",
      "--store", "etcd",
      "--etcd-endpoints", etcd.endpoints().toString(),
      "--etcd-cacert", certificates.caCert().toString(),
      "--etcd-cert", certificates.clientCert().toString(),
      "--etcd-key", certificates.clientKey().toString(),
      "--etcd-user", "root",
      "--etcd-password-file", etcdPasswordFile.toString(),
      "--tls-cert", certificates.serverCert().toString(),
      "--tls-key", certificates.serverKey().toString(),
      "--tls-client-ca", certificates.caCert().toString(),
      "--auth-token-file", tokenFile.toString()
    };
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    certificates.close();
  }

  private static List<String> clientTls() {
    return List.of(
        "--cacert", certificates.caCert().toString(),
        "--cert", certificates.clientCert().toString(),
        "--key", certificates.clientKey().toString());
  }

  private static List<String> etcdClientTls() {
    return List.of(
        "--etcd-cacert", certificates.caCert().toString(),
        "--etcd-cert", certificates.clientCert().toString(),
        "--etcd-key", certificates.clientKey().toString());
  }

  private static CommandRun kv(List<String> options, String... command) {
    List<String> args = new ArrayList<>(options);
    args.addAll(List.of(command));
    String[] words = args.toArray(String[]::new);
    return CommandRun.execute(Cli.commandLine(words), words);
  }

  private static List<String> throughServer() {
    List<String> options = new ArrayList<>(List.of("--server", address));
    options.addAll(clientTls());
    options.addAll(List.of("--auth-token-file", tokenFile.toString()));
    return options;
  }

  private static List<String> directToEtcd() {
    List<String> options =
        new ArrayList<>(List.of("--etcd-endpoints", etcd.endpoints().toString()));
    options.addAll(etcdClientTls());
    options.addAll(List.of("--etcd-user", "root", "--etcd-password-file", passwordFile.toString()));
    return options;
  }

  @Test
  void throughKvServer_andDirectly_theSameData_acrossTokenExpiries() throws Exception {
    assertThat(kv(throughServer(), "set", "secure/a", "through kv-server"))
        .isEqualTo(new CommandRun(0, "", ""));
    assertThat(kv(directToEtcd(), "get", "secure/a"))
        .isEqualTo(new CommandRun(0, "through kv-server\n", ""));
    assertThat(
            new String(
                etcd.etcdctl("get", "secure/a", "--print-value-only"), StandardCharsets.UTF_8))
        .isEqualTo("through kv-server\n");

    // Longer than the tokens live unused: kv-server's adapter signs in again by itself.
    Thread.sleep(4000);

    assertThat(kv(throughServer(), "get", "secure/a"))
        .isEqualTo(new CommandRun(0, "through kv-server\n", ""));
    assertThat(kv(throughServer(), "set", "secure/b", "after expiry"))
        .isEqualTo(new CommandRun(0, "", ""));
    assertThat(kv(throughServer(), "list", "secure/"))
        .isEqualTo(new CommandRun(0, "secure/a\tthrough kv-server\nsecure/b\tafter expiry\n", ""));
  }

  @Test
  void kvsOldNamesForEtcd_stillApplyForOneRelease_andOneLineNamesTheNewOnes() throws Exception {
    assertThat(kv(throughServer(), "set", "renamed", "old names"))
        .isEqualTo(new CommandRun(0, "", ""));
    List<String> oldNames = new ArrayList<>(List.of("--etcd", etcd.endpoints().toString()));
    oldNames.addAll(clientTls());
    oldNames.addAll(List.of("--timeout", "20s"));
    oldNames.addAll(
        List.of("--etcd-user", "root", "--etcd-password-file", passwordFile.toString()));

    assertThat(kv(oldNames, "get", "renamed"))
        .isEqualTo(
            new CommandRun(
                0,
                "old names\n",
                "kv: warning: for etcd, give --etcd-endpoints rather than --etcd, --etcd-cacert"
                    + " rather than --cacert, --etcd-cert rather than --cert, --etcd-key rather"
                    + " than --key, --etcd-timeout rather than --timeout; the old names stop"
                    + " applying to etcd in the next release\n"));
    oldNames.addAll(List.of("--etcd-cacert", certificates.caCert().toString(), "-o", "json"));
    assertThat(kv(oldNames, "get", "renamed").err())
        .as("only the old names that apply are named")
        .isEqualTo(
            "{\"warning\":\"for etcd, give --etcd-endpoints rather than --etcd, --etcd-cert rather"
                + " than --cert, --etcd-key rather than --key, --etcd-timeout rather than"
                + " --timeout; the old names stop applying to etcd in the next release\"}\n");
  }

  @Test
  void clientsWithoutTheirCredentials_areRefused_withOneLine() throws Exception {
    List<String> noToken = new ArrayList<>(List.of("--server", address));
    noToken.addAll(clientTls());
    assertThat(kv(noToken, "get", "secure/a"))
        .isEqualTo(
            new CommandRun(
                3,
                "",
                "kv: this kv-server needs a token: send the header 'authorization: Bearer TOKEN'\n"));

    CommandRun noCertificate =
        kv(
            List.of(
                "--server",
                address,
                "--cacert",
                certificates.caCert().toString(),
                "--auth-token-file",
                tokenFile.toString()),
            "get",
            "secure/a");
    assertThat(noCertificate.exitCode()).isEqualTo(3);
    assertThat(noCertificate.err())
        .startsWith("kv: TLS with kv-server at " + address + " failed: it refused this client's")
        .hasLineCount(1);

    Path wrongPassword = Files.writeString(certificates.directory().resolve("wrong"), "nope\n");
    List<String> wrongUser =
        new ArrayList<>(List.of("--etcd-endpoints", etcd.endpoints().toString()));
    wrongUser.addAll(etcdClientTls());
    wrongUser.addAll(
        List.of("--etcd-user", "root", "--etcd-password-file", wrongPassword.toString()));
    assertThat(kv(wrongUser, "get", "secure/a"))
        .isEqualTo(
            new CommandRun(
                3,
                "",
                "kv: etcd at "
                    + etcd.endpoints()
                    + " refused user 'root': authentication failed, invalid user ID or password\n"));
  }

  @Test
  void kvServerWithAWrongEtcdPassword_reportsItUnhealthy_andNeverLogsThePassword()
      throws Exception {
    // The password from the environment this time, not from a file.
    List<String> args = new ArrayList<>(List.of(serverArgs(passwordFile)));
    int file = args.indexOf("--etcd-password-file");
    args.remove(file + 1);
    args.remove(file);
    try (DaemonProcess refused =
        DaemonProcess.startMain(
            Map.of("KV_ETCD_PASSWORD", "not-the-password"), args.toArray(String[]::new))) {
      String address = refused.awaitListening().toString();
      Pattern unhealthy =
          Pattern.compile("the store does not answer \\((.*)\\): health is NOT_SERVING");
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> unhealthy.matcher(refused.output()).find());
      java.util.regex.Matcher reason = unhealthy.matcher(refused.output());
      assertThat(reason.find()).isTrue();

      assertThat(reason.group(1)).contains("refused user 'root'");
      // Clients are told it is the server's trouble, not their own credentials'.
      List<String> options = new ArrayList<>(List.of("--server", address));
      options.addAll(clientTls());
      options.addAll(List.of("--auth-token-file", tokenFile.toString()));
      assertThat(kv(options, "get", "secure/a").err())
          .endsWith("kv-server cannot sign in to its store; its log says why\n");
      refused.terminate();
      assertThat(refused.output()).doesNotContain("not-the-password");
    }
  }
}
