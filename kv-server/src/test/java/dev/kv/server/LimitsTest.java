package dev.kv.server;

import static dev.kv.server.KvServiceTest.getRequest;
import static dev.kv.server.KvServiceTest.setRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.kv.api.KVGrpc;
import dev.kv.api.SetRequest;
import dev.kv.api.WatchRequest;
import dev.kv.api.WatchResponse;
import dev.kv.core.config.HostPort;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Each limit holds, and says which one it is when reached; calls within them are still served. */
@Timeout(60)
class LimitsTest {

  private static final Limits SMALL =
      small(Duration.ofMinutes(5), Duration.ofHours(1), Duration.ofMillis(500));

  /**
   * Small limits: 16-byte keys, 64-byte values, 1 KiB messages, 2 streams, 3 calls, 2 watches; one
   * connection may hold all of them.
   */
  private static Limits small(Duration idle, Duration age, Duration defaultDeadline) {
    return new Limits(
        16,
        64,
        1024,
        2,
        3,
        2,
        Duration.ofSeconds(10),
        idle,
        age,
        defaultDeadline,
        Limits.DEFAULTS.maxConnections(),
        Limits.DEFAULTS.firstRequestTimeout(),
        16 << 10,
        3,
        Duration.ofMinutes(1),
        100,
        100);
  }

  private final StallingStore store = new StallingStore();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private KvServer server;

  private KvServer start(Limits limits) throws Exception {
    server = KvServer.builder(new HostPort("127.0.0.1", 0), store).limits(limits).build().start();
    return server;
  }

  private ManagedChannel connect() {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    channels.add(channel);
    return channel;
  }

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    store.close();
    if (server != null) {
      server.stop(Duration.ZERO);
    }
  }

  @Test
  void keyOrValueTooLarge_isInvalidArgument_namingTheLimit() throws Exception {
    start(SMALL);
    KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(connect());

    assertThatThrownBy(() -> kv.set(setRequest("k".repeat(17), "v")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            error -> {
              assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(error.getStatus().getDescription())
                  .isEqualTo("the key is 17 bytes; this kv-server accepts at most 16B (16 bytes)");
            });
    assertThatThrownBy(() -> kv.set(setRequest("k", "é".repeat(33))))
        .hasMessageContaining("INVALID_ARGUMENT: the value is 66 bytes");
    assertThatThrownBy(() -> kv.get(getRequest("k".repeat(17))))
        .hasMessageContaining("INVALID_ARGUMENT: the key is 17 bytes");
    assertThat(kv.set(setRequest("k".repeat(16), "v".repeat(64))).getOk()).isTrue();
  }

  @Test
  void messageTooLarge_isResourceExhausted() throws Exception {
    start(SMALL);
    KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(connect());

    assertThatThrownBy(() -> kv.set(setRequest("k", "v".repeat(2000))))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            error -> {
              assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
              assertThat(error.getStatus().getDescription()).contains("exceeds maximum size 1024");
            });
    assertThat(kv.set(setRequest("k", "v")).getOk()).isTrue();
  }

  @Test
  void callsBeyondTheLimit_areResourceExhausted_andTheDefaultDeadlineFreesTheSlots()
      throws Exception {
    start(SMALL);
    List<ManagedChannel> three = List.of(connect(), connect(), connect());
    List<CompletableFuture<Object>> stalled = new ArrayList<>();
    for (ManagedChannel channel : three) {
      // No deadline from the client: the server's default one ends them.
      stalled.add(
          CompletableFuture.supplyAsync(
              () -> KVGrpc.newBlockingStub(channel).get(getRequest("stall"))));
    }
    store.awaitStalled(3);

    assertThatThrownBy(() -> KVGrpc.newBlockingStub(connect()).get(getRequest("other")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            error -> {
              assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
              assertThat(error.getStatus().getDescription())
                  .isEqualTo("kv-server is at its limit of 3 calls in progress; retry later");
            });
    for (CompletableFuture<Object> call : stalled) {
      assertThat(call)
          .failsWithin(Duration.ofSeconds(30))
          .withThrowableThat()
          .havingRootCause()
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              error -> {
                assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
                assertThat(error.getStatus().getDescription())
                    .isEqualTo(
                        "the call took longer than kv-server's default deadline of 500ms"
                            + " (the client set none)");
              });
    }
    assertThat(KVGrpc.newBlockingStub(connect()).set(setRequest("after", "ok")).getOk()).isTrue();
  }

  @Test
  void watchesBeyondTheLimit_areResourceExhausted_andOthersKeepStreaming() throws Exception {
    start(SMALL);
    ManagedChannel channel = connect();
    Iterator<WatchResponse> first = watch(channel, "a");
    Iterator<WatchResponse> second = watch(connect(), "b");
    assertThat(first.next().getCreated()).isTrue();
    assertThat(second.next().getCreated()).isTrue();

    Iterator<WatchResponse> third = watch(connect(), "c");
    assertThatThrownBy(third::next)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            error -> {
              assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
              assertThat(error.getStatus().getDescription())
                  .isEqualTo("kv-server is at its limit of 2 open watches");
            });
    KVGrpc.newBlockingStub(channel).set(setRequest("a", "1"));
    assertThat(first.next().getEntry().getValue()).isEqualTo("1");
  }

  @Test
  void streamsPerConnectionBeyondTheLimit_waitForAFreeOne() throws Exception {
    // Two streams per connection, but room for more calls and watches than that.
    start(
        new Limits(
            16,
            64,
            1024,
            2,
            10,
            10,
            Duration.ofSeconds(10),
            Duration.ofMinutes(5),
            Duration.ofHours(1),
            Duration.ofMillis(500),
            Limits.DEFAULTS.maxConnections(),
            Limits.DEFAULTS.firstRequestTimeout(),
            16 << 10,
            10,
            Duration.ofMinutes(1),
            100,
            100));
    ManagedChannel channel = connect();
    for (int i = 0; i < 2; i++) {
      CompletableFuture.runAsync(() -> KVGrpc.newBlockingStub(channel).get(getRequest("stall")));
    }
    store.awaitStalled(2);

    // The third stream waits for one of the two to end (the default deadline ends them).
    long started = System.nanoTime();
    assertThat(
            KVGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .set(setRequest("k", "v"))
                .getOk())
        .isTrue();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThan(Duration.ofMillis(300));
  }

  @Test
  void clientsThatPingTooOften_areDisconnected_withTooManyPings() throws Exception {
    start(SMALL);
    try (RawHttp2Client client =
        new RawHttp2Client(new java.net.InetSocketAddress("127.0.0.1", server.port()))) {

      String goAway = client.ping(5).get(30, TimeUnit.SECONDS);

      assertThat(goAway).isEqualTo("ENHANCE_YOUR_CALM too_many_pings");
    }
    assertThat(KVGrpc.newBlockingStub(connect()).set(setRequest("k", "v")).getOk()).isTrue();
  }

  @Test
  void idleConnections_areClosed_andReopenedByTheClient() throws Exception {
    start(small(Duration.ofMillis(300), Duration.ofHours(1), Duration.ofSeconds(5)));
    ManagedChannel channel = connect();
    KVGrpc.newBlockingStub(channel).set(setRequest("k", "v"));
    assertThat(channel.getState(false)).isEqualTo(ConnectivityState.READY);

    await()
        .atMost(30, TimeUnit.SECONDS)
        .until(() -> channel.getState(false) != ConnectivityState.READY);

    assertThat(channel.getState(false)).isEqualTo(ConnectivityState.IDLE);
    assertThat(KVGrpc.newBlockingStub(channel).get(getRequest("k")).getValue()).isEqualTo("v");
  }

  @Test
  void agedConnections_keepTheirWatches_whileNewCallsMoveOn() throws Exception {
    start(small(Duration.ofMinutes(5), Duration.ofMillis(300), Duration.ofSeconds(5)));
    ManagedChannel channel = connect();
    Iterator<WatchResponse> watch = watch(channel, "a");
    assertThat(watch.next().getCreated()).isTrue();
    Thread.sleep(1000);

    KVGrpc.newBlockingStub(channel).set(setRequest("a", "after-age"));

    assertThat(watch.next().getEntry().getValue()).isEqualTo("after-age");
  }

  @Test
  void aWatchTheClientDoesNotRead_isEndedOnceItsBacklogIsTooLarge() throws Exception {
    start(Limits.DEFAULTS);
    ManagedChannel channel = connect();
    List<Object> received = new CopyOnWriteArrayList<>();
    CompletableFuture<Status> closed = new CompletableFuture<>();
    ClientCall<WatchRequest, WatchResponse> call =
        channel.newCall(KVGrpc.getWatchMethod(), CallOptions.DEFAULT);
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onMessage(WatchResponse message) {
            received.add(message);
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            closed.complete(status);
          }
        },
        new Metadata());
    call.sendMessage(WatchRequest.newBuilder().setKey("big/").setPrefix(true).build());
    call.halfClose();
    call.request(1);
    KVGrpc.KVBlockingStub writer = KVGrpc.newBlockingStub(connect());
    String value = "x".repeat(1 << 20);
    for (int i = 0; i < 12 && !closed.isDone(); i++) {
      writer.set(SetRequest.newBuilder().setKey("big/" + i).setValue(value).build());
    }
    // Now read: what was queued, then the end of the watch.
    call.request(Integer.MAX_VALUE);

    Status status = closed.get(60, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(status.getDescription())
        .startsWith("the client reads this watch too slowly: it fell more than 4MiB behind");
    assertThat(received.size()).isLessThan(12);
  }

  @Test
  void aCallThatFindsNoMemory_isResourceExhausted_neverUnknown() throws Exception {
    start(SMALL);
    KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(connect());

    try (LoggedRecords logged = LoggedRecords.of(CallFailureInterceptor.class)) {
      assertThatThrownBy(() -> kv.set(setRequest("no-memory", "v")))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              error -> {
                assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                assertThat(error.getStatus().getDescription())
                    .isEqualTo("kv-server is short of memory for this request; retry later");
              });
      assertThat(logged.records())
          .extracting(LogRecord::getMessage)
          .containsExactly(
              "a call found no memory, and is refused: java.lang.OutOfMemoryError: Java heap"
                  + " space (as the test asks)");
    }
    assertThat(kv.set(setRequest("k", "v")).getOk()).isTrue();
  }

  private static Iterator<WatchResponse> watch(ManagedChannel channel, String key) {
    return KVGrpc.newBlockingStub(channel).watch(WatchRequest.newBuilder().setKey(key).build());
  }
}
