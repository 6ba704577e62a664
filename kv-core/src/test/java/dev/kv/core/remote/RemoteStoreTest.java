package dev.kv.core.remote;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.kv.api.Entry;
import dev.kv.api.GetRequest;
import dev.kv.api.GetResponse;
import dev.kv.api.KVGrpc;
import dev.kv.api.SnapshotChunk;
import dev.kv.api.SnapshotRequest;
import dev.kv.api.WatchRequest;
import dev.kv.api.WatchResponse;
import dev.kv.core.KvException;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.config.HostPort;
import dev.kv.core.grpc.ChannelThreads;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The remote adapter facing a peer that misbehaves, which a real kv-server never does. */
@Timeout(30)
class RemoteStoreTest {

  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }

  @Test
  void snapshot_whole_writesTheChunks_andAnswersWhatTheLastMessageSays() throws Exception {
    serve(snapshotOf(chunk("abc"), chunk("de"), last(5)));
    RemoteStore store = RemoteStore.over(channel, "in-process", Duration.ofSeconds(30));
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    SnapshotInfo info = store.snapshot(out).get(30, TimeUnit.SECONDS);

    assertThat(info).isEqualTo(new SnapshotInfo(SnapshotInfo.ETCD, 9, 5));
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("abcde");
  }

  @Test
  void snapshot_streamEndingWithoutItsLastMessage_fails_neverReportsAWholeSnapshot()
      throws Exception {
    serve(snapshotOf(chunk("abc"), chunk("de")));
    RemoteStore store = RemoteStore.over(channel, "in-process", Duration.ofSeconds(30));

    assertThatFailureOf(store.snapshot(new ByteArrayOutputStream()))
        .hasCode(KvException.Code.UNAVAILABLE)
        .hasMessageContaining("before the snapshot was whole");
  }

  @Test
  void snapshot_lastMessageOfAnotherSize_failsWithDataLoss() throws Exception {
    serve(snapshotOf(chunk("abc"), last(5)));
    RemoteStore store = RemoteStore.over(channel, "in-process", Duration.ofSeconds(30));

    assertThatFailureOf(store.snapshot(new ByteArrayOutputStream()))
        .hasCode(KvException.Code.DATA_LOSS);
  }

  @Test
  void snapshot_streamCutByAnError_failsWithIt() throws Exception {
    serve(
        new KVGrpc.KVImplBase() {
          @Override
          public void snapshot(SnapshotRequest request, StreamObserver<SnapshotChunk> chunks) {
            chunks.onNext(chunk("abc"));
            chunks.onError(Status.UNAVAILABLE.withDescription("going away").asRuntimeException());
          }
        });
    RemoteStore store = RemoteStore.over(channel, "in-process", Duration.ofSeconds(30));

    assertThatFailureOf(store.snapshot(new ByteArrayOutputStream()))
        .hasCode(KvException.Code.UNAVAILABLE);
  }

  @Test
  void snapshot_whoseFileCannotBeWritten_failsWithItsError_andCancelsTheStream() throws Exception {
    CountDownLatch cancelled = new CountDownLatch(1);
    serve(
        new KVGrpc.KVImplBase() {
          @Override
          public void snapshot(SnapshotRequest request, StreamObserver<SnapshotChunk> chunks) {
            ((ServerCallStreamObserver<SnapshotChunk>) chunks)
                .setOnCancelHandler(cancelled::countDown);
            chunks.onNext(chunk("abc"));
          }
        });
    RemoteStore store = RemoteStore.over(channel, "in-process", Duration.ofSeconds(30));
    OutputStream full =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            throw new IOException("No space left on device");
          }
        };

    assertThat(store.snapshot(full))
        .failsWithin(Duration.ofSeconds(30))
        .withThrowableThat()
        .havingCause()
        .isInstanceOf(IOException.class)
        .withMessage("No space left on device");
    assertThat(cancelled.await(30, TimeUnit.SECONDS)).isTrue();
  }

  private static KVGrpc.KVImplBase snapshotOf(SnapshotChunk... sent) {
    return new KVGrpc.KVImplBase() {
      @Override
      public void snapshot(SnapshotRequest request, StreamObserver<SnapshotChunk> chunks) {
        for (SnapshotChunk chunk : sent) {
          chunks.onNext(chunk);
        }
        chunks.onCompleted();
      }
    };
  }

  private static SnapshotChunk chunk(String data) {
    return SnapshotChunk.newBuilder().setData(ByteString.copyFromUtf8(data)).build();
  }

  private static SnapshotChunk last(long size) {
    return SnapshotChunk.newBuilder()
        .setFormat(SnapshotInfo.ETCD)
        .setRevision(9)
        .setSize(size)
        .build();
  }

  @Test
  void callEndingWithoutAnAnswer_failsRatherThanHangs() throws Exception {
    serve(
        new KVGrpc.KVImplBase() {
          @Override
          public void get(GetRequest request, StreamObserver<GetResponse> responses) {
            responses.onNext(GetResponse.newBuilder().setValue("lost").build());
            responses.onCompleted();
          }
        });
    // As a broken proxy might: the call ends OK, but its answer never arrives.
    Channel answerless = ClientInterceptors.intercept(channel, new DropAnswers());
    RemoteStore store = RemoteStore.over(answerless, "proxy", Duration.ofSeconds(30));

    assertThatFailureOf(store.get("foo"), Duration.ofSeconds(30))
        .hasCode(KvException.Code.INTERNAL)
        .hasMessage("the call ended without an answer");
  }

  @Test
  void watchRefusedByTheServer_failsItsStartWithTheError_andTellsTheListenerOnce()
      throws Exception {
    serve(
        new KVGrpc.KVImplBase() {
          @Override
          public void watch(WatchRequest request, StreamObserver<WatchResponse> responses) {
            responses.onError(
                Status.RESOURCE_EXHAUSTED
                    .withDescription("at the limit of open watches")
                    .asRuntimeException());
          }
        });
    RemoteStore store = RemoteStore.over(channel, "server", Duration.ofSeconds(30));
    List<KvException> errors = new CopyOnWriteArrayList<>();

    Watch watch =
        store.watch(
            WatchQuery.key("k"),
            new WatchListener() {
              @Override
              public void onEvent(WatchEvent event) {}

              @Override
              public void onError(KvException error) {
                errors.add(error);
              }
            });

    assertThatFailureOf(watch.started(), Duration.ofSeconds(30))
        .hasCode(KvException.Code.RESOURCE_EXHAUSTED);
    // Told once: no second error follows the first.
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .during(Duration.ofMillis(300))
        .until(() -> errors.size() == 1);
    assertThat(errors)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.code()).isEqualTo(KvException.Code.RESOURCE_EXHAUSTED);
              assertThat(e.getMessage()).isEqualTo("at the limit of open watches");
            });
  }

  /** Ended by the server for falling behind, or reset on its way by a proxy that lost it. */
  @ParameterizedTest
  @EnumSource(
      value = Status.Code.class,
      names = {"RESOURCE_EXHAUSTED", "INTERNAL"})
  void watchEndedOnceStarted_resumesAfterTheLastChangeItGot(Status.Code code) throws Exception {
    List<Long> startRevisions = new CopyOnWriteArrayList<>();
    serve(
        new KVGrpc.KVImplBase() {
          @Override
          public void watch(WatchRequest request, StreamObserver<WatchResponse> responses) {
            startRevisions.add(request.getStartRevision());
            if (startRevisions.size() == 1) {
              responses.onNext(created(5));
              responses.onNext(event(5));
              responses.onNext(event(6));
              responses.onError(
                  Status.fromCode(code)
                      .withDescription("ended at revision 6")
                      .asRuntimeException());
            } else {
              responses.onNext(created(request.getStartRevision()));
              responses.onNext(event(7));
            }
          }
        });
    RemoteStore store = RemoteStore.over(channel, "server", Duration.ofSeconds(30));
    Recording seen = new Recording();

    store.watch(WatchQuery.key("k").fromRevision(5), seen);

    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> seen.revisions.size() == 3 || !seen.errors.isEmpty());
    assertThat(seen.errors).isEmpty();
    assertThat(seen.revisions).containsExactly(5L, 6L, 7L);
    assertThat(startRevisions).containsExactly(5L, 7L);
    assertThat(seen.interruptions).hasValue(1);
  }

  @Test
  void watchListenersThatBlock_holdNoMoreThreadsThanTheStoresPool() throws Exception {
    Server network =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(
                new KVGrpc.KVImplBase() {
                  @Override
                  public void watch(WatchRequest request, StreamObserver<WatchResponse> responses) {
                    responses.onNext(created(2));
                    responses.onNext(event(2));
                  }
                })
            .build()
            .start();
    CountDownLatch release = new CountDownLatch(1);
    Set<Thread> listening = ConcurrentHashMap.newKeySet();
    AtomicInteger delivered = new AtomicInteger();
    int watches = 3 * ChannelThreads.THREADS;
    try (RemoteStore store =
        RemoteStore.connect(new HostPort("127.0.0.1", network.getPort()), Duration.ofSeconds(30))) {
      for (int i = 0; i < watches; i++) {
        store.watch(
            WatchQuery.key("k" + i),
            new WatchListener() {
              @Override
              public void onEvent(WatchEvent event) {
                listening.add(Thread.currentThread());
                try {
                  release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                delivered.incrementAndGet();
              }

              @Override
              public void onError(KvException error) {}
            });
      }

      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> listening.size() >= ChannelThreads.THREADS);
      Awaitility.await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(10))
          .until(() -> listening.size() <= ChannelThreads.THREADS);
      release.countDown();
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> delivered.get() == watches);
    } finally {
      release.countDown();
      network.shutdownNow();
    }
  }

  @Test
  void calls_completeOnTheNetworkThread_byDefault() throws Exception {
    Thread completing = threadCompletingAGet(RemoteStore.builder());

    // A Netty event loop's thread: no hand-over to a pool before the future completes.
    assertThat(completing).isInstanceOf(FastThreadLocalThread.class);
  }

  @Test
  void calls_completeOnTheExecutorGiven_forCallersWhoseStagesBlock() throws Exception {
    ExecutorService embedder = Executors.newSingleThreadExecutor(task -> new Thread(task, "app"));
    try {
      Thread completing = threadCompletingAGet(RemoteStore.builder().executor(embedder));

      assertThat(completing.getName()).isEqualTo("app");
    } finally {
      embedder.shutdownNow();
    }
  }

  @Test
  void givenARegistry_operationsAreTimedByOutcome_aMissingKeyBeingAnAnswer() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Server network =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(
                new KVGrpc.KVImplBase() {
                  @Override
                  public void get(GetRequest request, StreamObserver<GetResponse> responses) {
                    if (request.getKey().equals("missing")) {
                      responses.onError(Status.NOT_FOUND.asRuntimeException());
                    } else {
                      responses.onNext(GetResponse.newBuilder().setValue("v").build());
                      responses.onCompleted();
                    }
                  }
                })
            .build()
            .start();
    try (RemoteStore store =
        RemoteStore.builder()
            .server(new HostPort("127.0.0.1", network.getPort()))
            .timeout(Duration.ofSeconds(30))
            .metrics(registry)
            .build()) {
      store.get("k").join();
      store.get("k").join();
      store.get("missing").join();
      // The server lacks Set: whatever code the store fails with, it is the one counted.
      String refusal =
          store
              .set("k", "v")
              .handle((revision, error) -> ((KvException) error).code().name())
              .join();

      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                assertThat(operations(registry, "get", "OK")).isEqualTo(3);
                assertThat(operations(registry, "set", refusal)).isEqualTo(1);
              });
    } finally {
      network.shutdownNow();
    }
  }

  private static long operations(SimpleMeterRegistry registry, String operation, String code) {
    Timer timer =
        registry
            .find("kv.store.operations")
            .tags("store", "remote", "operation", operation, "code", code)
            .timer();
    return timer == null ? 0 : timer.count();
  }

  /** The thread that runs a stage added to a get's future before its answer comes. */
  private static Thread threadCompletingAGet(RemoteStore.Builder builder) throws Exception {
    CountDownLatch added = new CountDownLatch(1);
    Server network =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(
                new KVGrpc.KVImplBase() {
                  @Override
                  public void get(GetRequest request, StreamObserver<GetResponse> responses) {
                    try {
                      added.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    responses.onNext(GetResponse.newBuilder().setValue("v").build());
                    responses.onCompleted();
                  }
                })
            .build()
            .start();
    try (RemoteStore store =
        builder
            .server(new HostPort("127.0.0.1", network.getPort()))
            .timeout(Duration.ofSeconds(30))
            .build()) {
      CompletableFuture<Thread> completing =
          store.get("k").thenApply(answer -> Thread.currentThread());
      added.countDown();
      return completing.get(30, TimeUnit.SECONDS);
    } finally {
      network.shutdownNow();
    }
  }

  private static WatchResponse created(long revision) {
    return WatchResponse.newBuilder().setCreated(true).setRevision(revision).build();
  }

  private static WatchResponse event(long revision) {
    return WatchResponse.newBuilder()
        .setEntry(
            Entry.newBuilder()
                .setKey("k")
                .setValue("v" + revision)
                .setCreateRevision(2)
                .setModRevision(revision)
                .setVersion(1))
        .build();
  }

  /** What a watch delivered. */
  private static final class Recording implements WatchListener {
    final List<Long> revisions = new CopyOnWriteArrayList<>();
    final List<KvException> errors = new CopyOnWriteArrayList<>();
    final AtomicInteger interruptions = new AtomicInteger();

    @Override
    public void onEvent(WatchEvent event) {
      revisions.add(event.revision());
    }

    @Override
    public void onError(KvException error) {
      errors.add(error);
    }

    @Override
    public void onInterrupted() {
      interruptions.incrementAndGet();
    }
  }

  /** Serves {@code service} in process, with {@link #channel} to it. */
  private void serve(KVGrpc.KVImplBase service) throws java.io.IOException {
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).addService(service).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  private static final class DropAnswers implements ClientInterceptor {
    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
      return new SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<RespT> listener, Metadata headers) {
          super.start(
              new SimpleForwardingClientCallListener<>(listener) {
                @Override
                public void onMessage(RespT message) {}
              },
              headers);
        }
      };
    }
  }
}
