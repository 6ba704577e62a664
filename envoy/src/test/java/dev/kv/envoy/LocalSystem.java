package dev.kv.envoy;

import dev.kv.core.config.HostPort;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The system as {@code envoy/local.sh} runs it, the way the README tells users to: etcd members,
 * kv-server replicas and Envoy with the shipped envoy.yaml, on loopback ports above a free base.
 * The tests drive the script's own commands, so the documented way is the tested way.
 */
final class LocalSystem implements AutoCloseable {

  static final Path ROOT = Path.of(System.getProperty("kv.root"));
  private static final Path SCRIPT = ROOT.resolve("envoy/local.sh");
  private static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(120);

  /** Ports above the base that the script uses: see its --help. */
  private static final int PORTS_USED = 40;

  private final Path dir;
  private final int portBase;
  private final HttpClient admin = HttpClient.newHttpClient();

  private LocalSystem(Path dir, int portBase) {
    this.dir = dir;
    this.portBase = portBase;
  }

  /** Starts the system in {@code dir} and returns once Envoy has every replica in rotation. */
  static LocalSystem up(Path dir, int replicas, int etcdMembers) throws Exception {
    for (int attempt = 1; ; attempt++) {
      int base = freePortBase();
      try {
        script(
            dir,
            "up",
            "--detach",
            "--port-base",
            String.valueOf(base),
            "--replicas",
            String.valueOf(replicas),
            "--etcd-members",
            String.valueOf(etcdMembers));
        return new LocalSystem(dir, base);
      } catch (ScriptFailure e) {
        // Another process took one of the ports between the check and the start.
        if (attempt == 3
            || !(e.output.contains("is taken") || e.output.contains("address already in use"))) {
          throw e;
        }
      }
    }
  }

  /** Envoy's kv listener: kv.KV over the replicas. */
  HostPort kv() {
    return new HostPort("127.0.0.1", portBase + 2);
  }

  /** Envoy's etcd listener, for calls whose authority is {@code etcd}. */
  HostPort etcd() {
    return new HostPort("127.0.0.1", portBase + 1);
  }

  /** Replica {@code n}, counted from 1, as the script names it ({@code kv-server-n}). */
  HostPort replica(int n) {
    return new HostPort("127.0.0.1", portBase + 9 + n);
  }

  /** etcd member {@code n}, counted from 1, as the script names it ({@code etcd-n}). */
  HostPort etcdMember(int n) {
    return new HostPort("127.0.0.1", portBase + 19 + n);
  }

  /** The config that Envoy runs: envoy.yaml as shipped, on this system's addresses. */
  Path envoyConfig() {
    return dir.resolve("envoy.yaml");
  }

  Path log(String name) {
    return dir.resolve("logs").resolve(name + ".log");
  }

  long pid(String name) throws IOException {
    return Long.parseLong(Files.readString(dir.resolve("pids").resolve(name + ".pid")).strip());
  }

  /** Whether the process named {@code name} runs now. */
  boolean running(String name) throws IOException {
    Path pid = dir.resolve("pids").resolve(name + ".pid");
    return Files.exists(pid)
        && ProcessHandle.of(pid(name)).map(ProcessHandle::isAlive).orElse(false);
  }

  /** SIGKILL, at once. */
  void kill(String name) throws Exception {
    script(dir, "kill", name);
  }

  /** SIGTERM, and waits until the process has gone (a replica drains first). */
  void stop(String name) throws Exception {
    script(dir, "stop", name);
  }

  /** Starts a process of this system again; a replica with extra kv-server options. */
  void start(String name, String... kvServerOptions) throws Exception {
    script(dir, List.of("start", name), List.of(kvServerOptions));
  }

  /** A page of Envoy's admin interface, such as {@code /clusters} or {@code /stats}. */
  String admin(String path) throws IOException, InterruptedException {
    HttpResponse<String> response =
        admin.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + portBase + path))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("Envoy's admin answered " + response.statusCode() + " for " + path);
    }
    return response.body();
  }

  /** Whether Envoy's health checks have replica {@code n} in rotation. */
  boolean inRotation(int n) throws IOException, InterruptedException {
    return healthFlags(n).equals("healthy");
  }

  /**
   * Why Envoy has replica {@code n} in rotation or not: {@code healthy}, or flags such as {@code
   * /failed_active_hc} (its health checks) and {@code /failed_outlier_check} (ejected for failing
   * calls).
   */
  String healthFlags(int n) throws IOException, InterruptedException {
    return replicaStat(n, "health_flags");
  }

  /** How many requests Envoy has sent to replica {@code n}, health checks aside. */
  long requestsTo(int n) throws IOException, InterruptedException {
    return Long.parseLong(replicaStat(n, "rq_total"));
  }

  /** How many requests to replica {@code n} are open now, such as watches, health checks aside. */
  long openRequestsTo(int n) throws IOException, InterruptedException {
    return Long.parseLong(replicaStat(n, "rq_active"));
  }

  /** One of the values that Envoy's /clusters gives for replica {@code n}. */
  private String replicaStat(int n, String stat) throws IOException, InterruptedException {
    Matcher value =
        Pattern.compile(
                "^kv-server::" + Pattern.quote(replica(n).toString()) + "::" + stat + "::(.*)$",
                Pattern.MULTILINE)
            .matcher(admin("/clusters"));
    if (!value.find()) {
      throw new IOException("Envoy's /clusters lists no " + stat + " of replica " + replica(n));
    }
    return value.group(1);
  }

  @Override
  public void close() throws Exception {
    script(dir, "down");
  }

  private static void script(Path dir, String... args) throws Exception {
    script(dir, List.of(args), List.of());
  }

  /** Runs the script; the kv-server options go last, after {@code --}, as it takes them. */
  private static void script(Path dir, List<String> args, List<String> kvServerOptions)
      throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
    command.addAll(args);
    command.addAll(List.of("--dir", dir.toString()));
    if (!kvServerOptions.isEmpty()) {
      command.add("--");
      command.addAll(kvServerOptions);
    }
    Path output = Files.createTempFile("local-sh", ".out");
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      if (!process.waitFor(SCRIPT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new ScriptFailure(command, -1, Files.readString(output));
      }
      if (process.exitValue() != 0) {
        throw new ScriptFailure(command, process.exitValue(), Files.readString(output));
      }
    } finally {
      Files.deleteIfExists(output);
    }
  }

  /**
   * A base above which every port the script needs is free now: below Linux's ephemeral ports
   * (32768 and up), which any outgoing connection may take meanwhile.
   */
  private static int freePortBase() throws IOException {
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    for (int attempt = 0; attempt < 50; attempt++) {
      int base = 10_000 + 100 * ThreadLocalRandom.current().nextInt(220);
      if (allFree(loopback, base)) {
        return base;
      }
    }
    throw new IOException("no free range of " + PORTS_USED + " ports on 127.0.0.1");
  }

  private static boolean allFree(InetAddress loopback, int base) {
    for (int port = base; port < base + PORTS_USED; port++) {
      try (ServerSocket socket = new ServerSocket(port, 1, loopback)) {
        socket.setReuseAddress(true);
      } catch (IOException taken) {
        return false;
      }
    }
    return true;
  }

  /** The script failed: its exit code and everything it printed. */
  static final class ScriptFailure extends IOException {
    final String output;

    ScriptFailure(List<String> command, int exitCode, String output) {
      super(
          String.join(" ", command)
              + (exitCode < 0 ? " timed out" : " exited " + exitCode)
              + ":\n"
              + output);
      this.output = output;
    }
  }
}
