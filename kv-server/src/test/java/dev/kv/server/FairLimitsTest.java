package dev.kv.server;

import static dev.kv.server.RawHttp2Client.grpcFrame;
import static dev.kv.server.RawHttp2Client.grpcHeaders;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kv.api.KVGrpc;
import dev.kv.api.SetRequest;
import dev.kv.api.WatchRequest;
import dev.kv.core.config.HostPort;
import dev.kv.server.RawHttp2Client.Exchange;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * No caller can hold the server's calls from the others: callers without a token, one connection,
 * one client address, or a call whose deadline is years away. Against kv-server run as
 * bin/kv-server runs it; the attacks send headers and no message, so that each call waits for its
 * request, holding what it took, until the server ends it. Each test prints a probe client's
 * latency during the attack.
 */
@Timeout(60)
class FairLimitsTest {

  private static final String HEALTH_CHECK = "/grpc.health.v1.Health/Check";
  private static final String REFLECTION =
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
  private static final String GET = "/kv.KV/Get";
  private static final String WATCH = "/kv.KV/Watch";

  /** The longest deadline a gRPC client can send: 99,999,999 hours, some 11,000 years. */
  private static final String YEARS = "99999999H";

  private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(15);

  @AutoClose private final Closer closer = new Closer();
  private DaemonProcess daemon;

  @Test
  void callsWithoutAToken_toHealthAndReflection_cannotTakeTheSlotsOfCallersWithOne(
      @TempDir Path dir) throws Exception {
    Path tokens = Files.writeString(dir.resolve("tokens"), "s3cret\n");
    HostPort address = start("--auth-token-file", tokens.toString(), "--max-calls", "300");
    // Over 4 connections from another address, each held for years: 400 health checks, more
    // than --max-calls, and 100 reflection streams.
    List<Exchange> held = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      RawHttp2Client attacker = client(address, "127.0.0.2");
      for (int i = 0; i < 125; i++) {
        held.add(attacker.send(years(i % 5 == 0 ? REFLECTION : HEALTH_CHECK), List.of(), false));
      }
    }
    // At least the health checks beyond --max-calls are refused, whoever counts them.
    await().atMost(ANSWER_TIMEOUT).until(() -> ended(held) >= 400 - 300);

    try (Probe probe = Probe.start(address, "s3cret")) {
      await().atMost(ANSWER_TIMEOUT).until(() -> probe.served() + probe.failures().size() >= 20);
      ServingStatus health = checkHealth(address);
      System.out.printf(
          "FairLimitsTest unauthenticated: %d headers-only calls to health checks and"
              + " reflection with a deadline of years: %s; an authenticated probe: %s; a health"
              + " check from another address: %s; kv-server peak resident memory (VmHWM) %d MB%n",
          held.size(), outcomes(held), probe.summary(), health, daemon.peakResidentKb() >> 10);
      assertThat(probe.failures()).as("the authenticated probe's failed calls").isEmpty();
      assertThat(health).isEqualTo(ServingStatus.SERVING);
    }
    assertThat(held.size() - ended(held))
        .as("calls the attacker holds: its address's share of --max-unauthenticated-calls")
        .isLessThanOrEqualTo(50);
    assertThat(outcomes(held))
        .containsKey(
            "RESOURCE_EXHAUSTED this client address holds its share (50) of kv-server's limit of"
                + " 100 calls to health checks and reflection; retry later");
  }

  @Test
  void aCallWithADeadlineOfYears_isEndedAtTheLongestCallDuration_butAWatchIsNot() throws Exception {
    HostPort address = start("--max-call-duration", "2s", "--default-deadline", "1s");
    RawHttp2Client client = client(address, "127.0.0.1");
    byte[] watchRequest = WatchRequest.newBuilder().setKey("w").build().toByteArray();
    Exchange watch = client.send(years(WATCH), List.of(grpcFrame(watchRequest)), true);
    watch.awaitEndOrData(ANSWER_TIMEOUT);
    Map<String, Exchange> calls = new TreeMap<>();
    long started = System.nanoTime();
    for (String path : List.of(GET, HEALTH_CHECK, REFLECTION)) {
      calls.put(path, client.send(years(path), List.of(), false));
    }

    try (Probe probe = Probe.start(address, null)) {
      for (Map.Entry<String, Exchange> call : calls.entrySet()) {
        Exchange ended = call.getValue().await(ANSWER_TIMEOUT);
        System.out.printf(
            "FairLimitsTest longest call: %s with a deadline of years -> %s after %.1f s%n",
            call.getKey(), ended, (System.nanoTime() - started) / 1e9);
        assertThat(ended.grpcStatus()).as(call.getKey()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(ended.grpcMessage())
            .as(call.getKey())
            .isEqualTo(
                "the call took longer than kv-server lets any call run, 2s, although the client's"
                    + " deadline was later");
      }
      System.out.println("FairLimitsTest longest call: probe " + probe.summary());
      assertThat(probe.failures()).isEmpty();
    }
    // Watches aside: this one still delivers.
    set(address, "w", "after the longest call duration");
    await()
        .atMost(ANSWER_TIMEOUT)
        .until(
            () ->
                watch.ended()
                    || new String(watch.data(), StandardCharsets.UTF_8)
                        .contains("after the longest call duration"));
    assertThat(watch.ended()).as("the watch ended: %s", watch).isFalse();
  }

  @Test
  void oneConnection_cannotTakeAllTheCallSlots() throws Exception {
    // As behind a proxy, where every call comes from one address: only the connection's share.
    HostPort address = start("--max-calls", "100", "--max-share-per-address", "100");
    RawHttp2Client attacker = client(address, "127.0.0.1");
    List<Exchange> held = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      held.add(attacker.send(years(GET), List.of(), false));
    }
    await().atMost(ANSWER_TIMEOUT).until(() -> ended(held) >= 100);

    String probed = probeWhileHeld(address, held, "one connection");
    assertThat(held.size() - ended(held)).isLessThanOrEqualTo(25);
    assertThat(outcomes(held))
        .containsKey(
            "RESOURCE_EXHAUSTED this connection holds its share (25) of kv-server's limit of 100"
                + " calls in progress; retry later");
    assertThat(probed).isEqualTo("served");
  }

  @Test
  void oneClientAddress_cannotTakeAllTheCallSlots_overManyConnections() throws Exception {
    HostPort address = start("--max-calls", "100");
    List<Exchange> held = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      RawHttp2Client attacker = client(address, "127.0.0.2");
      for (int i = 0; i < 50; i++) {
        held.add(attacker.send(years(GET), List.of(), false));
      }
    }
    await().atMost(ANSWER_TIMEOUT).until(() -> ended(held) >= 100);

    String probed = probeWhileHeld(address, held, "one address, 4 connections");
    assertThat(held.size() - ended(held)).isLessThanOrEqualTo(50);
    assertThat(outcomes(held))
        .containsKey(
            "RESOURCE_EXHAUSTED this client address holds its share (50) of kv-server's limit of"
                + " 100 calls in progress; retry later");
    assertThat(probed).isEqualTo("served");
  }

  /** Runs a probe next to the calls held, prints what it saw, and says whether it was served. */
  private String probeWhileHeld(HostPort address, List<Exchange> held, String attack)
      throws Exception {
    try (Probe probe = Probe.start(address, null)) {
      await().atMost(ANSWER_TIMEOUT).until(() -> probe.served() + probe.failures().size() >= 20);
      System.out.printf(
          "FairLimitsTest %s: %d headers-only calls with a deadline of years: %s; probe: %s;"
              + " kv-server peak resident memory (VmHWM) %d MB%n",
          attack, held.size(), outcomes(held), probe.summary(), daemon.peakResidentKb() >> 10);
      return probe.failures().isEmpty() ? "served" : "refused: " + probe.failures();
    }
  }

  private HostPort start(String... options) throws Exception {
    List<String> args = new ArrayList<>(List.of("--store", "memory", "--listen", "127.0.0.1:0"));
    args.addAll(List.of(options));
    daemon = closer.addToCloseFirst(DaemonProcess.startAsLauncher(args.toArray(String[]::new)));
    return daemon.awaitListening();
  }

  private RawHttp2Client client(HostPort server, String from) {
    RawHttp2Client client =
        new RawHttp2Client(
            new InetSocketAddress(server.host(), server.port()), new InetSocketAddress(from, 0));
    return closer.add(client);
  }

  private static Http2Headers years(String path) {
    return grpcHeaders(path).set("grpc-timeout", YEARS);
  }

  private static int ended(List<Exchange> calls) {
    return (int) calls.stream().filter(Exchange::ended).count();
  }

  /** The answers to the calls that ended, by status and message. */
  private static Map<String, Integer> outcomes(List<Exchange> calls) {
    Map<String, Integer> outcomes = new TreeMap<>();
    for (Exchange call : calls) {
      if (call.ended()) {
        outcomes.merge(call.outcome() + " " + call.grpcMessage(), 1, Integer::sum);
      }
    }
    return outcomes;
  }

  private static ServingStatus checkHealth(HostPort address) throws InterruptedException {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext().build();
    try {
      return HealthGrpc.newBlockingStub(channel)
          .withDeadlineAfter(ANSWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .check(HealthCheckRequest.getDefaultInstance())
          .getStatus();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static void set(HostPort address, String key, String value) throws InterruptedException {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext().build();
    try {
      KVGrpc.newBlockingStub(channel)
          .withDeadlineAfter(ANSWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .set(SetRequest.newBuilder().setKey(key).setValue(value).build());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
