package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.config.HostPort;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The daemon as users run it: options, errors, and a real process stopped by a signal. */
@Timeout(60)
class MainTest {

  private static final Pattern LISTENING = Pattern.compile("listening on (\\S+)");

  @Test
  void sigterm_stopsGracefully_andExitsZero() throws Exception {
    Process daemon = startDaemon("--listen", "127.0.0.1:0");
    BlockingQueue<String> log = linesOf(daemon);
    HostPort address = HostPort.parse(awaitLine(log, LISTENING).group(1));
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

    daemon.toHandle().destroy(); // SIGTERM, leaving the output readable

    assertThat(daemon.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(daemon.exitValue()).isZero();
    awaitLine(log, Pattern.compile("stopped$"));
  }

  @Test
  void addressInUse_exitsOneWithOneReadableLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Run run = run("--listen", "127.0.0.1:" + taken.getLocalPort());

      assertThat(run.exitCode).isEqualTo(Main.EXIT_FAILED);
      assertThat(run.err.strip())
          .isEqualTo(
              "kv-server: cannot listen on 127.0.0.1:"
                  + taken.getLocalPort()
                  + ": address already in use");
    }
  }

  @Test
  void invalidListenAddress_exitsTwoSayingWhatIsExpected() {
    Run run = run("--listen", "9986");

    assertThat(run.exitCode).isEqualTo(Main.EXIT_USAGE);
    assertThat(run.err)
        .startsWith("kv-server: Invalid value for option '--listen': expected HOST:PORT")
        .contains("Try 'kv-server --help'");
  }

  @Test
  void unknownStore_exitsTwoNamingTheChoices() {
    Run run = run("--store", "nosuchstore");

    assertThat(run.exitCode).isEqualTo(Main.EXIT_USAGE);
    assertThat(run.err).contains("--store").contains("memory");
  }

  @Test
  void help_documentsEveryOptionItsEnvironmentVariableAndTheExitCodes() {
    Run run = run("--help");

    assertThat(run.exitCode).isZero();
    assertThat(run.out)
        .contains("--listen", "KV_LISTEN", "127.0.0.1:9986")
        .contains("--store", "KV_STORE")
        .contains("--shutdown-grace", "KV_SHUTDOWN_GRACE")
        .contains("Exit codes:");
  }

  private record Run(int exitCode, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var commandLine = Main.commandLine();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int exitCode = commandLine.execute(args);
    return new Run(exitCode, out.toString(), err.toString());
  }

  private static Process startDaemon(String... args) throws Exception {
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    List<String> command =
        new java.util.ArrayList<>(
            List.of(java, "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  private static BlockingQueue<String> linesOf(Process process) {
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                in.lines().forEach(lines::add);
              } catch (Exception e) {
                lines.add("(log unreadable: " + e + ")");
              }
            });
    reader.setDaemon(true);
    reader.start();
    return lines;
  }

  private static Matcher awaitLine(BlockingQueue<String> lines, Pattern pattern)
      throws InterruptedException {
    StringBuilder seen = new StringBuilder();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      String line = lines.poll(100, TimeUnit.MILLISECONDS);
      if (line != null) {
        seen.append(line).append('\n');
        Matcher matcher = pattern.matcher(line);
        if (matcher.find()) {
          return matcher;
        }
      }
    }
    throw new AssertionError("no line matching " + pattern + " in:\n" + seen);
  }
}
