package dev.kv.server;

import dev.kv.api.GetRequest;
import dev.kv.api.KVGrpc;
import dev.kv.api.SetRequest;
import dev.kv.core.config.HostPort;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A well-behaved client that keeps reading one key, on a connection of its own, while a test
 * attacks the server: whether it is served, and how fast, is what the attack does to everyone else.
 */
final class Probe implements AutoCloseable {

  /** Generous: on a loaded machine a call may wait seconds for a processor. */
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(20);

  private static final Duration PAUSE = Duration.ofMillis(20);

  private final ManagedChannel channel;
  private final KVGrpc.KVBlockingStub kv;
  private final List<Long> latenciesNanos = new CopyOnWriteArrayList<>();
  private final Map<String, Integer> failures = new ConcurrentSkipListMap<>();
  private final Thread thread;
  private volatile boolean stopped;

  private Probe(HostPort server, String token) {
    channel = NettyChannelBuilder.forAddress(server.host(), server.port()).usePlaintext().build();
    Metadata headers = new Metadata();
    if (token != null) {
      headers.put(
          Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    }
    kv =
        KVGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    thread = new Thread(this::run, "probe");
  }

  /** Writes the key it reads, then reads it until closed; {@code token} may be null. */
  static Probe start(HostPort server, String token) {
    Probe probe = new Probe(server, token);
    probe.deadlined().set(SetRequest.newBuilder().setKey("probe").setValue("here").build());
    probe.thread.start();
    return probe;
  }

  private KVGrpc.KVBlockingStub deadlined() {
    return kv.withDeadlineAfter(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void run() {
    while (!stopped) {
      long started = System.nanoTime();
      try {
        deadlined().get(GetRequest.newBuilder().setKey("probe").build());
        latenciesNanos.add(System.nanoTime() - started);
      } catch (StatusRuntimeException e) {
        failures.merge(
            e.getStatus().getCode() + " " + e.getStatus().getDescription(), 1, Integer::sum);
      }
      try {
        Thread.sleep(PAUSE.toMillis());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** The calls that failed, by status and message. */
  Map<String, Integer> failures() {
    return failures;
  }

  int served() {
    return latenciesNanos.size();
  }

  /** Its calls so far, with their latency. */
  String summary() {
    return latenciesNanos.size()
        + " calls served, "
        + latencies(latenciesNanos)
        + "; failures "
        + failures;
  }

  /** The median and 99th percentile of {@code nanos}, in milliseconds. */
  static String latencies(List<Long> nanos) {
    if (nanos.isEmpty()) {
      return "no latency measured";
    }
    List<Long> sorted = new ArrayList<>(nanos);
    sorted.sort(null);
    return String.format(
        "p50 %.1f ms, p99 %.1f ms",
        sorted.get(sorted.size() / 2) / 1e6,
        sorted.get(Math.min(sorted.size() - 1, sorted.size() * 99 / 100)) / 1e6);
  }

  @Override
  public void close() {
    stopped = true;
    try {
      thread.join(CALL_TIMEOUT.toMillis());
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
