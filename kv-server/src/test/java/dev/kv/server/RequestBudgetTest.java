package dev.kv.server;

import static dev.kv.server.RawHttp2Client.grpcFrame;
import static dev.kv.server.RawHttp2Client.grpcHeaders;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.api.KVGrpc;
import dev.kv.api.SetRequest;
import dev.kv.core.config.HostPort;
import dev.kv.server.RawHttp2Client.Exchange;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bytes of requests in progress, against kv-server run as bin/kv-server runs it (128 MB of
 * heap, 64 MB of direct memory): requests of a few KiB that inflate to the largest message, and
 * messages left unfinished, from one client on several connections, are refused past its share of
 * the budget, and nobody else notices. Each attack comes from 127.0.0.2, another client address
 * than the clients it must not disturb; each test prints what it measured.
 */
@Timeout(90)
class RequestBudgetTest {

  /** The attacker's address: loopback, but not the other clients' 127.0.0.1. */
  private static final String ATTACKER = "127.0.0.2";

  private static final int GZIP_CONNECTIONS = 12;

  /** Ten times the 1,200 in flight that once exhausted the heap. */
  private static final int GZIP_REQUESTS_PER_CONNECTION = 1000;

  /** Generous: answered in 4 to 15 s on a loaded machine. */
  private static final Duration ANSWERS_WITHIN = Duration.ofSeconds(30);

  /** Long enough for the innocent client's sets, with room for a loaded machine (12 s). */
  private static final Duration INNOCENT_SETS_WITHIN = Duration.ofSeconds(40);

  @AutoClose private final Closer closer = new Closer();
  private DaemonProcess daemon;

  @Test
  void gzippedRequestsInflatingToTheLargestMessage_areRefusedPastTheBudget_andOthersAreServed(
      @TempDir Path dataDir) throws Exception {
    // The embedded store, the default: requests are read on a pool of threads, many at once.
    daemon =
        closer.addToCloseFirst(
            DaemonProcess.startAsLauncher(
                "--listen", "127.0.0.1:0", "--data-dir", dataDir.toString()));
    HostPort address = daemon.awaitListening();
    byte[] inflated =
        SetRequest.newBuilder()
            .setKey("bomb")
            .setValue("a".repeat(Limits.DEFAULTS.maxMessageBytes() - 64))
            .build()
            .toByteArray();
    byte[] gzipped = gzip(inflated);
    Http2Headers headers = grpcHeaders("/kv.KV/Set").set("grpc-encoding", "gzip");
    byte[] frame = grpcFrame(1, gzipped.length, gzipped);

    Probe probe = closer.add(Probe.start(address, null));
    long started = System.nanoTime();
    List<Exchange> requests = new ArrayList<>();
    for (int c = 0; c < GZIP_CONNECTIONS; c++) {
      RawHttp2Client attacker = closer.add(attacker(address));
      for (int i = 0; i < GZIP_REQUESTS_PER_CONNECTION; i++) {
        requests.add(attacker.send(headers, List.of(frame), true));
      }
    }
    Map<String, Integer> outcomes = awaitAll(requests, started + ANSWERS_WITHIN.toNanos());
    double seconds = (System.nanoTime() - started) / 1e9;
    probe.close();

    System.out.printf(
        "RequestBudgetTest gzip: %d requests of %d bytes inflating to %d, on %d connections, in"
            + " %.1f s: %s; probe: %s; kv-server peak resident memory (VmHWM) %d MB%n",
        requests.size(),
        frame.length,
        inflated.length,
        GZIP_CONNECTIONS,
        seconds,
        outcomes,
        probe.summary(),
        daemon.peakResidentKb() >> 10);
    assertServerWhole();
    assertThat(outcomes.keySet())
        .as("answers to the attack")
        .allMatch(
            outcome ->
                outcome.matches("RESOURCE_EXHAUSTED .*in progress; retry later")
                    || outcome.startsWith("INVALID_ARGUMENT the value is"));
    assertThat(outcomes.keySet()).anyMatch(outcome -> outcome.contains("of requests in progress"));
    assertThat(probe.failures()).as("the probe's failed calls").isEmpty();
    assertThat(probe.served()).isPositive();
    // Every byte counted was given back: a client alone has its whole share again.
    assertThat(setOnce(address, 1 << 20)).isEqualTo("OK");
  }

  @Test
  void slowUnfinishedMessages_areRefusedPastTheBudget_andFailNoOtherConnection() throws Exception {
    daemon =
        closer.addToCloseFirst(
            DaemonProcess.startAsLauncher("--store", "memory", "--listen", "127.0.0.1:0"));
    HostPort address = daemon.awaitListening();
    AtomicBoolean attacking = new AtomicBoolean(true);
    Map<String, Integer> attackOutcomes = new ConcurrentSkipListMap<>();
    List<Thread> attackers = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      Thread attacker =
          new Thread(() -> sendSlowly(address, attacking, attackOutcomes), "slow-attacker-" + c);
      attacker.start();
      attackers.add(attacker);
    }

    // What once failed with GOAWAY: 201 sets on a connection of their own.
    Map<String, Integer> innocent = new TreeMap<>();
    List<Long> latenciesNanos = new ArrayList<>();
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext().build();
    closer.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel);
    String value = "v".repeat(64 << 10);
    long end = System.nanoTime() + INNOCENT_SETS_WITHIN.toNanos();
    for (int i = 0; i < 201 && System.nanoTime() < end; i++) {
      long started = System.nanoTime();
      try {
        kv.withDeadlineAfter(20, TimeUnit.SECONDS)
            .set(SetRequest.newBuilder().setKey("innocent/" + i).setValue(value).build());
        latenciesNanos.add(System.nanoTime() - started);
        innocent.merge("OK", 1, Integer::sum);
      } catch (StatusRuntimeException e) {
        innocent.merge(
            e.getStatus().getCode() + " " + e.getStatus().getDescription(), 1, Integer::sum);
      }
      Thread.sleep(50);
    }
    attacking.set(false);
    for (Thread attacker : attackers) {
      attacker.join(TimeUnit.SECONDS.toMillis(30));
    }

    System.out.printf(
        "RequestBudgetTest slow messages: the innocent client's 201 sets of 64 KiB: %s, %s; the"
            + " attacker's streams: %s; kv-server peak resident memory (VmHWM) %d MB%n",
        innocent, Probe.latencies(latenciesNanos), attackOutcomes, daemon.peakResidentKb() >> 10);
    assertServerWhole();
    assertThat(innocent).as("the innocent client's sets").isEqualTo(Map.of("OK", 201));
    assertThat(attackOutcomes.keySet())
        .anyMatch(outcome -> outcome.startsWith("RESOURCE_EXHAUSTED \"this client address holds"));
  }

  /**
   * One attacker's connection after another: 20 streams that each declare a message just under the
   * largest, then send 16 KiB of it every 100 ms, never finishing; a new connection when the server
   * has ended them all.
   */
  private void sendSlowly(HostPort address, AtomicBoolean attacking, Map<String, Integer> seen) {
    byte[] part = new byte[16 << 10];
    byte[] start = grpcFrame(0, Limits.DEFAULTS.maxMessageBytes() - 16, new byte[0]);
    while (attacking.get()) {
      try (RawHttp2Client attacker = attacker(address)) {
        List<Exchange> streams = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          streams.add(attacker.send(grpcHeaders("/kv.KV/Set"), List.of(start), false));
        }
        while (attacking.get() && !streams.stream().allMatch(Exchange::ended)) {
          for (Exchange stream : streams) {
            stream.sendData(part, false);
          }
          Thread.sleep(100);
        }
        for (Exchange stream : streams) {
          seen.merge(
              stream.ended() ? stream.toString().replaceAll(" \\(stream \\d+\\)", "") : "open",
              1,
              Integer::sum);
        }
      } catch (Exception e) {
        seen.merge(e.toString(), 1, Integer::sum);
      }
    }
  }

  private static RawHttp2Client attacker(HostPort server) {
    return new RawHttp2Client(
        new InetSocketAddress(server.host(), server.port()), new InetSocketAddress(ATTACKER, 0));
  }

  /** The outcome of each request, by status and message, or how it went unanswered. */
  private static Map<String, Integer> awaitAll(List<Exchange> requests, long deadlineNanos)
      throws Exception {
    Map<String, Integer> outcomes = new TreeMap<>();
    for (Exchange request : requests) {
      String outcome;
      try {
        long left = Math.max(1, deadlineNanos - System.nanoTime());
        request.await(Duration.ofNanos(left));
        outcome =
            request.outcome() + (request.grpcMessage() == null ? "" : " " + request.grpcMessage());
      } catch (AssertionError e) {
        outcome = "no answer";
      }
      outcomes.merge(outcome, 1, Integer::sum);
    }
    return outcomes;
  }

  /** A set of a value of {@code size} bytes on a connection of its own: OK, or its status. */
  private static String setOnce(HostPort address, int size) throws InterruptedException {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext().build();
    try {
      KVGrpc.newBlockingStub(channel)
          .withDeadlineAfter(30, TimeUnit.SECONDS)
          .set(SetRequest.newBuilder().setKey("after").setValue("x".repeat(size)).build());
      return "OK";
    } catch (StatusRuntimeException e) {
      return Status.fromThrowable(e).toString();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private void assertServerWhole() {
    String output = daemon.output();
    assertThat(daemon.isAlive()).as("the server is still running").isTrue();
    assertThat(output.lines().filter(line -> line.contains("OutOfMemoryError")).limit(3))
        .as("lines of the server's output that name an OutOfMemoryError")
        .isEmpty();
  }

  private static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(bytes);
    }
    return out.toByteArray();
  }
}
