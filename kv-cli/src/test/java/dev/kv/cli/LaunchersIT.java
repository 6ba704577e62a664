package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.config.HostPort;
import dev.kv.server.CommandRun;
import dev.kv.server.DaemonProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jars through the repository's launchers, as a newcomer runs them: {@code
 * bin/kv-server}, then {@code bin/kv set} and {@code bin/kv get}.
 */
@Timeout(120)
class LaunchersIT {

  private static final Path ROOT = Path.of(System.getProperty("kv.root")).toAbsolutePath();

  @TempDir Path dataDir;

  @Test
  void serverAndCommandLine_fromTheLaunchers() throws Exception {
    try (DaemonProcess server = startServer()) {
      HostPort address = server.awaitListening();
      String target = address.toString();

      assertThat(kv(target, "set", "foo", "bar")).isEqualTo(new CommandRun(0, "", ""));
      assertThat(kv(target, "get", "foo")).isEqualTo(new CommandRun(0, "bar\n", ""));
      assertThat(kv(target, "get", "nosuchkey"))
          .isEqualTo(new CommandRun(1, "", "kv: key not found: nosuchkey\n"));

      assertThat(server.terminate()).isZero();
      assertThat(kv(target, "get", "foo"))
          .isEqualTo(new CommandRun(3, "", "kv: cannot reach kv-server at " + target + "\n"));
    }
    try (DaemonProcess restarted = startServer()) {
      String target = restarted.awaitListening().toString();

      assertThat(kv(target, "get", "foo")).isEqualTo(new CommandRun(0, "bar\n", ""));
    }
  }

  /** {@code bin/kv-server} on its default store, the embedded one, in this test's directory. */
  private DaemonProcess startServer() throws Exception {
    return DaemonProcess.start(
        List.of(
            launcher("kv-server"), "--listen", "127.0.0.1:0", "--data-dir", dataDir.toString()));
  }

  @Test
  void kvServerEnvironmentVariable_picksTheServer() throws Exception {
    try (DaemonProcess server = startServer()) {
      String target = server.awaitListening().toString();

      CommandRun set =
          run(List.of(launcher("kv"), "set", "env", "works"), Map.of("KV_SERVER", target));
      CommandRun get = run(List.of(launcher("kv"), "get", "env"), Map.of("KV_SERVER", target));
      // KV_ETCD would send kv straight to etcd, but --server on the command line wins.
      CommandRun override =
          run(
              List.of(launcher("kv"), "--server", target, "get", "env"),
              Map.of("KV_ETCD", "http://127.0.0.1:1"));

      assertThat(set.exitCode()).isZero();
      assertThat(get).isEqualTo(new CommandRun(0, "works\n", ""));
      assertThat(override).isEqualTo(get);
    }
  }

  @Test
  void setFromStandardInput() throws Exception {
    try (DaemonProcess server = startServer()) {
      String target = server.awaitListening().toString();

      CommandRun set =
          run(
              List.of(launcher("kv"), "--server", target, "set", "piped", "--file", "-"),
              Map.of(),
              "from a pipe\nsecond line");

      assertThat(set.exitCode()).isZero();
      assertThat(kv(target, "get", "piped").out()).isEqualTo("from a pipe\nsecond line\n");
    }
  }

  private static CommandRun kv(String server, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(launcher("kv"), "--server", server));
    command.addAll(List.of(args));
    return run(command, Map.of(), "");
  }

  private static CommandRun run(List<String> command, Map<String, String> environment)
      throws Exception {
    return run(command, environment, "");
  }

  private static CommandRun run(List<String> command, Map<String, String> environment, String input)
      throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command);
    // A loaded machine may take longer than the default 5 s to start a JVM and connect.
    builder.environment().put("KV_TIMEOUT", "30s");
    builder.environment().putAll(environment);
    Process process = builder.start();
    try (var stdin = process.getOutputStream()) {
      stdin.write(input.getBytes(StandardCharsets.UTF_8));
    }
    byte[] out = process.getInputStream().readAllBytes();
    byte[] err = process.getErrorStream().readAllBytes();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new CommandRun(
        process.exitValue(),
        new String(out, StandardCharsets.UTF_8),
        new String(err, StandardCharsets.UTF_8));
  }

  private static String launcher(String name) {
    return ROOT.resolve("bin").resolve(name).toString();
  }
}
