package dev.kv.server;

import static dev.kv.core.ReadConsistency.LINEARIZABLE;
import static dev.kv.server.KvServiceTest.getRequest;
import static dev.kv.server.KvServiceTest.setRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.kv.api.GetResponse;
import dev.kv.api.KVGrpc;
import dev.kv.api.WatchRequest;
import dev.kv.api.WatchResponse;
import dev.kv.core.KeyValue;
import dev.kv.core.KvStore;
import dev.kv.core.config.HostPort;
import dev.kv.core.memory.MemoryStore;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The server on a real loopback port: health checking and graceful shutdown. */
@Timeout(60)
class KvServerTest {

  private LoopbackServer loopback;
  private KvServer server;
  private ManagedChannel channel;

  private void start(KvStore store) throws Exception {
    loopback = LoopbackServer.start(store);
    server = loopback.server;
    channel = loopback.channel;
  }

  @AfterEach
  void stop() throws Exception {
    if (loopback != null) {
      loopback.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "kv.KV"})
  void health_onceStarted_isServing(String service) throws Exception {
    start(new MemoryStore());

    HealthCheckResponse health =
        HealthGrpc.newBlockingStub(channel)
            .check(HealthCheckRequest.newBuilder().setService(service).build());

    assertThat(health.getStatus()).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void address_isTheBoundLoopbackPort() throws Exception {
    start(new MemoryStore());

    assertThat(server.address()).isEqualTo(new HostPort("127.0.0.1", server.port()));
    assertThat(server.port()).isPositive();
  }

  @Test
  void stop_reportsNotServingFirst_thenLetsCallsInFlightFinish() throws Exception {
    KvStore store = mock(KvStore.class);
    CompletableFuture<Optional<KeyValue>> slowRead = new CompletableFuture<>();
    when(store.get("slow", LINEARIZABLE)).thenReturn(slowRead);
    start(store);
    List<ServingStatus> seen = new CopyOnWriteArrayList<>();
    ManagedChannel watcher =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    HealthGrpc.newStub(watcher)
        .watch(HealthCheckRequest.newBuilder().setService("kv.KV").build(), collect(seen));
    await().atMost(30, TimeUnit.SECONDS).until(() -> seen.contains(ServingStatus.SERVING));
    var inFlight = KVGrpc.newFutureStub(channel).get(getRequest("slow"));
    verify(store, timeout(30_000)).get("slow", LINEARIZABLE);

    CompletableFuture<Void> stopping =
        CompletableFuture.runAsync(
            () -> {
              try {
                server.stop(Duration.ofSeconds(30));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });

    await().atMost(30, TimeUnit.SECONDS).until(() -> seen.contains(ServingStatus.NOT_SERVING));
    // A watcher that sees NOT_SERVING goes away, as a load balancer does; its stream would
    // otherwise hold the stop for the whole grace period.
    watcher.shutdownNow();
    assertThat(inFlight).isNotDone();
    assertThat(stopping).isNotDone();

    slowRead.complete(Optional.of(new KeyValue("slow", "finally", 2, 2, 1)));

    GetResponse answer = inFlight.get(30, TimeUnit.SECONDS);
    assertThat(answer.getValue()).isEqualTo("finally");
    stopping.get(30, TimeUnit.SECONDS);
  }

  @Test
  void stop_afterGrace_cancelsCallsStillInFlight() throws Exception {
    KvStore store = mock(KvStore.class);
    CompletableFuture<Optional<KeyValue>> neverAnswered = new CompletableFuture<>();
    when(store.get("stuck", LINEARIZABLE)).thenReturn(neverAnswered);
    start(store);
    var inFlight = KVGrpc.newFutureStub(channel).get(getRequest("stuck"));
    verify(store, timeout(30_000)).get("stuck", LINEARIZABLE);

    server.stop(Duration.ofMillis(200));

    // The cancellation reaches the store on the call's own thread, just after the stop.
    await().atMost(30, TimeUnit.SECONDS).until(neverAnswered::isCancelled);
    assertThat(inFlight).failsWithin(Duration.ofSeconds(30));
  }

  @Test
  void stop_endsOpenWatchesWithUnavailable_withoutWaitingForTheGrace() throws Exception {
    start(new MemoryStore());
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    CompletableFuture<Void> created = new CompletableFuture<>();
    KVGrpc.newStub(channel)
        .watch(
            WatchRequest.newBuilder().setKey("w").build(),
            new StreamObserver<>() {
              @Override
              public void onNext(WatchResponse response) {
                created.complete(null);
              }

              @Override
              public void onError(Throwable error) {
                ended.complete(error);
              }

              @Override
              public void onCompleted() {
                ended.complete(null);
              }
            });
    created.get(30, TimeUnit.SECONDS);

    long start = System.nanoTime();
    server.stop(Duration.ofSeconds(30));

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    assertThat(Status.fromThrowable(ended.get(30, TimeUnit.SECONDS)).getCode())
        .isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void calls_fromManyClients_areServedConcurrently() throws Exception {
    start(new MemoryStore());
    KVGrpc.KVFutureStub client = KVGrpc.newFutureStub(channel);
    List<com.google.common.util.concurrent.ListenableFuture<?>> calls = new java.util.ArrayList<>();
    for (int i = 0; i < 200; i++) {
      calls.add(client.set(setRequest("k" + i, "v" + i)));
    }
    for (var call : calls) {
      call.get(30, TimeUnit.SECONDS);
    }

    assertThat(KVGrpc.newBlockingStub(channel).get(getRequest("k199")).getValue())
        .isEqualTo("v199");
  }

  private static StreamObserver<HealthCheckResponse> collect(List<ServingStatus> seen) {
    return new StreamObserver<>() {
      @Override
      public void onNext(HealthCheckResponse response) {
        seen.add(response.getStatus());
      }

      @Override
      public void onError(Throwable error) {}

      @Override
      public void onCompleted() {}
    };
  }
}
