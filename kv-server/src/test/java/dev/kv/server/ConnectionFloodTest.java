package dev.kv.server;

import static dev.kv.server.KvServiceTest.getRequest;
import static dev.kv.server.KvServiceTest.setRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kv.api.KVGrpc;
import dev.kv.core.config.HostPort;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kv-server as users run it (the launcher's JVM options: a 128 MB heap) under a flood of 20,000
 * connections that never make a call, opened and held by other processes: each sends the HTTP/2
 * preface, nothing at all, or the preface and most of a large frame. The server holds no more than
 * {@code --max-connections} of them, closes the others at once, closes the ones it holds once they
 * have sent no request for {@code --first-request-timeout}, serves a client that calls meanwhile,
 * and still stops within its grace period on SIGTERM, letting go of its data directory.
 *
 * <p>The connections come from four processes of 5,000 each: every process here, this one and the
 * server included, may hold 20,000 descriptors at most ({@code ulimit -n}), and this JVM needs some
 * of its own.
 */
@Timeout(180)
class ConnectionFloodTest {

  private static final int MAX_CONNECTIONS = Limits.DEFAULTS.maxConnections();
  private static final List<String> MODES = List.of("preface", "silent", "preface", "partial");
  private static final int PER_PROCESS = 5_000;
  private static final int CONNECTIONS = MODES.size() * PER_PROCESS;

  /**
   * Short, so that the test sees the server close the connections it held, but long enough that a
   * process on a busy machine, slow to see what happens, does not take those for refused ones.
   */
  private static final Duration FIRST_REQUEST_TIMEOUT = Duration.ofSeconds(6);

  private static final Duration GRACE = Duration.ofSeconds(5);

  /** How late a process may notice what the server did, on a busy machine. */
  private static final Duration SLACK = Duration.ofSeconds(5);

  /**
   * The deadline of each probe call: generous, so that only a server that cannot answer fails (on
   * two cores shared with other builds, a call took up to 6 s while 20,000 connections were made).
   */
  private static final Duration PROBE_DEADLINE = Duration.ofSeconds(20);

  private static final Pattern CONNECTED = Pattern.compile("connected (\\d+) of (\\d+), (\\d+)");
  private static final Pattern CLOSED =
      Pattern.compile("closed by the server: (\\d+), still open (\\d+); ages \\(ms\\):(.*)");

  @TempDir Path dataDir;

  @AutoClose private final Closer closer = new Closer();

  @Test
  void connectionsBeyondTheCap_areClosedAtOnce_theOthersAtTheFirstRequestDeadline_whileCallsGoOn()
      throws Exception {
    DaemonProcess server =
        start(
            Map.of("KV_FIRST_REQUEST_TIMEOUT", FIRST_REQUEST_TIMEOUT.toSeconds() + "s"),
            "--store",
            "memory");
    HostPort address = server.awaitListening();
    ServerSockets sockets = new ServerSockets(server.pid());
    Probe probe = new Probe(address);
    probe.awaitServed();
    long baseline = sockets.openNow();

    long started = System.nanoTime();
    List<DaemonProcess> floods = flood(address, FIRST_REQUEST_TIMEOUT.plus(SLACK).multipliedBy(3));
    int failed = awaitConnected(floods);
    double connecting = (System.nanoTime() - started) / 1e9;
    List<Long> ages = new ArrayList<>();
    int stillOpen = 0;
    for (DaemonProcess flood : floods) {
      Matcher closed = flood.awaitLine(CLOSED);
      stillOpen += Integer.parseInt(closed.group(2));
      Arrays.stream(closed.group(3).trim().split(" "))
          .filter(age -> !age.isEmpty())
          .map(Long::parseLong)
          .forEach(ages::add);
    }
    probe.close();

    // Refused connections close at once, the others at the deadline: half-way parts them.
    long deadlineMillis = FIRST_REQUEST_TIMEOUT.toMillis();
    long refusedBefore = deadlineMillis / 2;
    List<Long> refused = ages.stream().filter(age -> age < refusedBefore).toList();
    List<Long> held = ages.stream().filter(age -> age >= refusedBefore).toList();
    // Slots come free at each deadline: connections still arriving then may take them.
    long rounds = 1 + (long) (connecting * 1000) / deadlineMillis;
    System.out.printf(
        Locale.ROOT,
        "flood: %d connections (%d not connected) in %.1f s, --max-connections %d,"
            + " --first-request-timeout %d ms: %d closed at once (the slowest after %d ms), %d at"
            + " the deadline (after %d-%d ms), %d left open; server descriptors: %d before, at"
            + " most %d; probe %s; server %s%n",
        CONNECTIONS,
        failed,
        connecting,
        MAX_CONNECTIONS,
        deadlineMillis,
        refused.size(),
        refused.stream().mapToLong(age -> age).max().orElse(0),
        held.size(),
        held.stream().mapToLong(age -> age).min().orElse(0),
        held.stream().mapToLong(age -> age).max().orElse(0),
        stillOpen,
        baseline,
        sockets.mostOpen(),
        probe.summary(),
        memory(server.pid()));

    assertThat(failed).as("connections that could not even connect").isZero();
    assertThat(probe.failures()).as("calls of a client served meanwhile").isEmpty();
    // And some more: the JDK lets go of a closed socket's descriptor only once the selector it
    // was registered with next looks, and a busy event loop may close hundreds before it does.
    assertThat(sockets.mostOpen())
        .as("descriptors the server held: at most --max-connections more than before, and some")
        .isLessThanOrEqualTo(baseline + MAX_CONNECTIONS + MAX_CONNECTIONS / 4);
    assertThat(stillOpen).as("connections the server left open").isZero();
    assertThat((long) refused.size())
        .as("connections closed at once, beyond the cap")
        .isGreaterThanOrEqualTo(CONNECTIONS - rounds * MAX_CONNECTIONS);
    // The probe holds one slot.
    assertThat(held)
        .as("the ages of the connections the server held, when it closed them (ms)")
        .hasSizeGreaterThanOrEqualTo(MAX_CONNECTIONS - 1)
        .allSatisfy(age -> assertThat(age).isLessThanOrEqualTo(deadlineMillis + SLACK.toMillis()));
    try (Probe after = new Probe(address)) {
      after.awaitServed();
      assertThat(after.failures()).as("a new client, once the flood is over").isEmpty();
    }
    assertThat(serverErrors(server)).isEmpty();
  }

  @Test
  void sigterm_with20000ConnectionsHeld_stopsWithinTheGrace_andLetsGoOfTheDataDirectory()
      throws Exception {
    DaemonProcess server =
        start(
            Map.of(),
            "--data-dir",
            dataDir.toString(),
            "--shutdown-grace",
            GRACE.toSeconds() + "s");
    HostPort address = server.awaitListening();
    Probe probe = new Probe(address);
    probe.awaitServed();

    List<DaemonProcess> floods = flood(address, Duration.ofSeconds(60));
    int failed = awaitConnected(floods);
    probe.close();
    // One process goes away, as clients do: the server closes its side of each connection.
    floods.get(0).kill();
    await("no connection left in CLOSE-WAIT on the server's side")
        .atMost(SLACK.multipliedBy(2))
        .until(() -> closeWaitSockets(address.port()) == 0);
    String memory = memory(server.pid());

    long signalled = System.nanoTime();
    int exitCode = server.terminate();
    Duration stopping = Duration.ofNanos(System.nanoTime() - signalled);
    System.out.printf(
        Locale.ROOT,
        "flood: %d connections held (%d not connected), probe %s; server %s; stopped %d ms after"
            + " SIGTERM, exit code %d%n",
        CONNECTIONS,
        failed,
        probe.summary(),
        memory,
        stopping.toMillis(),
        exitCode);

    assertThat(probe.failures()).as("calls of a client served meanwhile").isEmpty();
    assertThat(exitCode).isZero();
    assertThat(stopping).isLessThanOrEqualTo(GRACE.plus(SLACK));
    assertThat(serverErrors(server)).isEmpty();
    // The data directory's lock went with the server: another one opens it, and has the data.
    DaemonProcess next = start(Map.of(), "--data-dir", dataDir.toString());
    HostPort nextAddress = next.awaitListening();
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(nextAddress.host(), nextAddress.port())
            .usePlaintext()
            .build();
    closer.add(channel::shutdownNow);
    assertThat(
            KVGrpc.newBlockingStub(channel)
                .withDeadlineAfter(PROBE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .get(getRequest("probe"))
                .getValue())
        .isEqualTo(probe.lastWritten());
    try (Probe after = new Probe(nextAddress)) {
      after.awaitServed();
      assertThat(after.failures()).isEmpty();
    }
    assertThat(next.terminate()).isZero();
  }

  private DaemonProcess start(Map<String, String> environment, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("--listen", "127.0.0.1:0"));
    all.addAll(List.of(args));
    DaemonProcess server =
        DaemonProcess.startMain(
            DaemonProcess.launcherJvmOptions(), environment, all.toArray(String[]::new));
    closer.add(server);
    return server;
  }

  /** Starts the processes that open and hold the connections, at once. */
  private List<DaemonProcess> flood(HostPort address, Duration lifetime) throws Exception {
    List<DaemonProcess> floods = new ArrayList<>();
    for (String mode : MODES) {
      DaemonProcess flood =
          DaemonProcess.startJava(
              ConnectionFlood.class,
              List.of("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
              Map.of(),
              address.host(),
              String.valueOf(address.port()),
              String.valueOf(PER_PROCESS),
              mode,
              String.valueOf(lifetime.toSeconds()));
      closer.add(flood);
      floods.add(flood);
    }
    return floods;
  }

  /** Waits until every connection was tried; returns how many were not connected. */
  private static int awaitConnected(List<DaemonProcess> floods) throws InterruptedException {
    int failed = 0;
    for (DaemonProcess flood : floods) {
      Matcher connected = flood.awaitLine(CONNECTED);
      failed += Integer.parseInt(connected.group(2)) - Integer.parseInt(connected.group(1));
    }
    return failed;
  }

  private static List<String> serverErrors(DaemonProcess server) {
    return server
        .output()
        .lines()
        .filter(line -> line.contains("OutOfMemoryError") || line.contains("Exception in thread"))
        .toList();
  }

  /** The server's peak and current resident memory, as the kernel counts it. */
  private static String memory(long pid) throws IOException {
    String status = Files.readString(Path.of("/proc", String.valueOf(pid), "status"));
    return Stream.of("VmHWM", "VmRSS")
        .map(
            field -> {
              Matcher kb = Pattern.compile("(?m)^" + field + ":\\s+(\\d+)").matcher(status);
              return field + " " + (kb.find() ? Long.parseLong(kb.group(1)) >> 10 : -1) + " MB";
            })
        .reduce((a, b) -> a + ", " + b)
        .orElseThrow();
  }

  /** Sockets on this machine in CLOSE-WAIT whose local port is {@code port}: the server's. */
  private static long closeWaitSockets(int port) throws IOException {
    String local = String.format(Locale.ROOT, ":%04X", port);
    try (Stream<String> lines = Files.lines(Path.of("/proc/net/tcp"))) {
      return lines
          .map(String::trim)
          .map(line -> line.split("\\s+"))
          // local_address, then rem_address, then st: 08 is CLOSE_WAIT.
          .filter(fields -> fields[1].endsWith(local) && fields[3].equals("08"))
          .count();
    }
  }

  /** The most descriptors the server held at once, sampled every 50 ms. */
  private final class ServerSockets {
    private final Path descriptors;
    private final AtomicLong most = new AtomicLong();

    ServerSockets(long pid) {
      this.descriptors = Path.of("/proc", String.valueOf(pid), "fd");
      ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
      sampler.scheduleWithFixedDelay(
          () -> most.accumulateAndGet(openNow(), Math::max), 0, 50, TimeUnit.MILLISECONDS);
      closer.add(sampler::shutdownNow);
    }

    long openNow() {
      try (Stream<Path> open = Files.list(descriptors)) {
        return open.count();
      } catch (IOException e) {
        return 0; // the server is gone
      }
    }

    long mostOpen() {
      return most.get();
    }
  }

  /**
   * A client on a connection of its own that calls Set, Get and the health check in turn until
   * closed, recording how long each call took and what failed.
   */
  private static final class Probe implements AutoCloseable {
    private final ManagedChannel channel;
    private final List<Long> latenciesNanos = new CopyOnWriteArrayList<>();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private volatile String lastWritten;
    private final Thread thread;
    private volatile boolean running = true;

    Probe(HostPort address) {
      channel =
          NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext().build();
      thread = new Thread(this::run, "probe");
      thread.start();
    }

    private void run() {
      KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel);
      HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
      for (int i = 0; running; i++) {
        String value = "v" + i;
        if (call("Set", () -> deadline(kv).set(setRequest("probe", value)).getOk(), true)) {
          lastWritten = value;
        }
        call("Get", () -> deadline(kv).get(getRequest("probe")).getValue(), value);
        call(
            "Check",
            () ->
                health
                    .withDeadlineAfter(PROBE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .check(HealthCheckRequest.newBuilder().setService("kv.KV").build())
                    .getStatus(),
            ServingStatus.SERVING);
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    private static KVGrpc.KVBlockingStub deadline(KVGrpc.KVBlockingStub kv) {
      return kv.withDeadlineAfter(PROBE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Makes one call; returns whether it answered as expected. */
    private boolean call(String name, Supplier<Object> call, Object expected) {
      long started = System.nanoTime();
      boolean answered = false;
      try {
        Object answer = call.get();
        answered = expected.equals(answer);
        if (!answered) {
          failures.add(name + " answered " + answer + ", not " + expected);
        }
      } catch (RuntimeException e) {
        failures.add(name + ": " + e.getMessage());
      }
      latenciesNanos.add(System.nanoTime() - started);
      return answered;
    }

    /** Waits for a few rounds of calls, then counts latencies afresh. */
    void awaitServed() {
      await("the probe's first calls")
          .atMost(Duration.ofSeconds(60))
          .until(() -> latenciesNanos.size() >= 30);
      latenciesNanos.clear();
    }

    /** The value of the last Set the server acknowledged. */
    String lastWritten() {
      return lastWritten;
    }

    List<String> failures() {
      return failures;
    }

    /** The number of calls and their latency, p50 and p99. */
    String summary() {
      long[] sorted = latenciesNanos.stream().mapToLong(Long::longValue).sorted().toArray();
      return String.format(
          Locale.ROOT,
          "%d calls, %d failed, latency p50 %.1f ms, p99 %.1f ms",
          sorted.length,
          failures.size(),
          percentile(sorted, 50) / 1e6,
          percentile(sorted, 99) / 1e6);
    }

    private static long percentile(long[] sorted, int percent) {
      return sorted.length == 0
          ? 0
          : sorted[
              Math.min(sorted.length - 1, (int) Math.ceil(percent / 100.0 * sorted.length) - 1)];
    }

    @Override
    public void close() {
      running = false;
      try {
        thread.join(PROBE_DEADLINE.multipliedBy(4).toMillis());
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
