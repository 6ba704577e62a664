package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonParser;
import dev.kv.core.config.HostPort;
import dev.kv.core.etcd.EtcdCluster;
import dev.kv.server.CommandRun;
import dev.kv.server.DaemonProcess;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The deployment of {@code envoy/envoy.yaml}, with nginx as the L7 proxy (no Envoy can be installed
 * here): two kv-server processes on etcd, both reaching etcd through the proxy's etcd listener by
 * its authority, behind the proxy's kv listener; and {@code kv} through either listener.
 */
@Timeout(120)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProxyPathsTest {

  @RegisterExtension static final EtcdCluster etcd = EtcdCluster.ofMembers(1);

  @TempDir static Path dir;

  private static final List<DaemonProcess> servers = new ArrayList<>();
  private static final List<HostPort> addresses = new ArrayList<>();
  private static GrpcProxy proxy;

  @BeforeAll
  static void deploy() throws Exception {
    List<HostPort> listeners = GrpcProxy.freeListeners();
    for (int i = 0; i < 2; i++) {
      DaemonProcess server =
          DaemonProcess.startMain(
              "--listen",
              "127.0.0.1:0",
              "--store",
              "etcd",
              "--etcd-endpoints",
              "http://" + listeners.get(0),
              "--etcd-authority",
              "etcd");
      servers.add(server);
      addresses.add(server.awaitListening());
    }
    HostPort member = HostPort.parse(etcd.endpoint(0).toString().replace("http://", ""));
    proxy = GrpcProxy.start(dir.resolve("nginx"), listeners, member, addresses);
    for (DaemonProcess server : servers) {
      // Started before the proxy, each reaches etcd once it is up, and says so.
      server.awaitLine(Pattern.compile("health is SERVING"));
    }
  }

  @AfterAll
  static void undeploy() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    servers.forEach(DaemonProcess::close);
  }

  @Test
  @Order(1)
  void kvToEtcd_throughTheProxy_withTheAuthority() throws Exception {
    String etcdListener = "http://" + proxy.etcdListener();

    assertThat(
            kv(
                "--etcd-endpoints",
                etcdListener,
                "--etcd-authority",
                "etcd",
                "set",
                "proxied",
                "yes"))
        .isEqualTo(new CommandRun(0, "", ""));
    assertThat(kv("--etcd-endpoints", etcdListener, "--etcd-authority", "etcd", "get", "proxied"))
        .isEqualTo(new CommandRun(0, "yes\n", ""));
    assertThat(
            new String(
                etcd.etcdctl("get", "proxied", "--print-value-only"), StandardCharsets.UTF_8))
        .isEqualTo("yes\n");
  }

  @Test
  @Order(2)
  void kvToEtcd_throughTheProxy_withoutTheAuthority_failsWithOneClearLine() {
    String etcdListener = "http://" + proxy.etcdListener();

    assertThat(kv("--etcd-endpoints", etcdListener, "get", "proxied"))
        .isEqualTo(
            new CommandRun(
                3,
                "",
                "kv: etcd at "
                    + etcdListener
                    + " answered HTTP 404 rather than gRPC; if a proxy is in between, check the"
                    + " authority it routes on\n"));
  }

  @Test
  @Order(3)
  void kvToServers_throughTheProxy_spreadsTheCallsOverBoth_whichReachEtcdThroughItToo()
      throws Exception {
    String kvListener = proxy.kvListener().toString();

    for (int i = 0; i < 10; i++) {
      CommandRun set = kv("--server", kvListener, "set", "spread/" + i, "v" + i);
      assertThat(set.exitCode()).as(set.err()).isZero();
    }

    assertThat(kv("--server", kvListener, "get", "spread/7"))
        .isEqualTo(new CommandRun(0, "v7\n", ""));
    assertThat(proxy.upstreamsOf("/kv.KV/Set"))
        .hasSize(10)
        .containsAll(addresses.stream().map(HostPort::toString).toList());
    assertThat(
            new String(
                etcd.etcdctl("get", "spread/", "--prefix", "--keys-only"), StandardCharsets.UTF_8))
        .contains("spread/0", "spread/9");
  }

  @Test
  @Order(4)
  void watch_throughTheProxy_replaysAndThenStreams() throws Exception {
    String kvListener = proxy.kvListener().toString();
    long first =
        JsonParser.parseString(kv("--server", kvListener, "-o", "json", "set", "w", "1").out())
            .getAsJsonObject()
            .get("revision")
            .getAsLong();
    kv("--server", kvListener, "set", "w", "2");

    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine watchLine = Cli.commandLine();
    watchLine.setOut(new PrintWriter(out, true));
    watchLine.setErr(new PrintWriter(err, true));
    CompletableFuture<Integer> watch =
        CompletableFuture.supplyAsync(
            () ->
                watchLine.execute(
                    "--server",
                    kvListener,
                    "watch",
                    "w",
                    "--rev",
                    String.valueOf(first),
                    "--count",
                    "3"));
    // The watch has replayed two changes and waits for the third.
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .failFast(watch::isDone)
        .until(() -> out.toString().lines().count() == 2);
    kv("--server", kvListener, "set", "w", "3");

    assertThat(watch.get(60, TimeUnit.SECONDS)).as(err.toString()).isZero();
    assertThat(out.toString().lines()).hasSize(3);
    assertThat(out.toString()).contains("1", "2", "3");
  }

  @Test
  @Order(5)
  void oneServerStopped_theServiceKeepsAnswering() throws Exception {
    String kvListener = proxy.kvListener().toString();
    kv("--server", kvListener, "set", "survivor", "here");

    assertThat(servers.get(0).terminate()).isZero();

    for (int i = 0; i < 6; i++) {
      assertThat(kv("--server", kvListener, "get", "survivor"))
          .isEqualTo(new CommandRun(0, "here\n", ""));
    }
  }

  private static CommandRun kv(String... args) {
    return CommandRun.execute(Cli.commandLine(args), args);
  }
}
