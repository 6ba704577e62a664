package dev.kv.core.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.api.GetRequest;
import dev.kv.api.GetResponse;
import dev.kv.api.KVGrpc;
import dev.kv.core.KvException;
import dev.kv.core.RecordingListener;
import dev.kv.core.WatchListener;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The client skeleton of the gRPC stores, against an in-process server that answers as told. */
@Timeout(30)
class StoreConnectionTest {

  private static final String PEER = "test server";
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** What the server answers, one a call: a value, or a failure; no answer when empty. */
  private final Queue<Object> answers = new ArrayDeque<>();

  private final AtomicInteger calls = new AtomicInteger();
  private Server server;
  private ManagedChannel channel;
  private KVGrpc.KVStub kv;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(
                new KVGrpc.KVImplBase() {
                  @Override
                  public void get(GetRequest request, StreamObserver<GetResponse> responses) {
                    calls.incrementAndGet();
                    Object answer;
                    synchronized (answers) {
                      answer = answers.poll();
                    }
                    if (answer instanceof Status failure) {
                      responses.onError(failure.asRuntimeException());
                    } else if (answer instanceof String value) {
                      responses.onNext(GetResponse.newBuilder().setValue(value).build());
                      responses.onCompleted();
                    }
                  }
                })
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    kv = KVGrpc.newStub(channel);
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  private void answer(Object... each) {
    synchronized (answers) {
      answers.addAll(List.of(each));
    }
  }

  private CompletableFuture<String> get(StoreConnection connection) {
    return connection.call(
        kv,
        KVGrpc.KVStub::get,
        () -> GetRequest.newBuilder().setKey("k").build(),
        GetResponse::getValue);
  }

  private static KvException failureOf(CompletableFuture<?> call) {
    try {
      call.get();
    } catch (ExecutionException e) {
      return (KvException) e.getCause();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("the call succeeded");
  }

  @Test
  void call_answer_isMappedByOnResponse() throws Exception {
    answer("value");

    assertThat(get(StoreConnection.over(channel, PEER, TIMEOUT)).get()).isEqualTo("value");
  }

  @Test
  void call_failure_isAKvExceptionNamingThePeer() {
    answer(Status.UNAVAILABLE.withDescription("going away"));

    KvException failure = failureOf(get(StoreConnection.over(channel, PEER, TIMEOUT)));

    assertThat(failure.code()).isEqualTo(KvException.Code.UNAVAILABLE);
    assertThat(failure.getMessage()).isEqualTo(PEER + " is unavailable: going away");
  }

  @Test
  void call_noAnswerWithinTheTimeout_isDeadlineExceeded() {
    StoreConnection connection = StoreConnection.over(channel, PEER, Duration.ofMillis(200));

    KvException failure = failureOf(get(connection));

    assertThat(failure.code()).isEqualTo(KvException.Code.DEADLINE_EXCEEDED);
    assertThat(failure.getMessage()).isEqualTo(PEER + " did not answer within 200ms");
  }

  @Test
  void call_requestThatCannotBeBuilt_failsWithoutReachingTheServer() {
    CompletableFuture<String> call =
        StoreConnection.over(channel, PEER, TIMEOUT)
            .call(
                kv,
                KVGrpc.KVStub::get,
                () -> {
                  throw new KvException(KvException.Code.INVALID_ARGUMENT, "empty key");
                },
                GetResponse::getValue);

    assertThat(failureOf(call).getMessage()).isEqualTo("empty key");
    assertThat(calls).hasValue(0);
  }

  /** A get that reads NOT_FOUND as no value. */
  private CompletableFuture<Optional<String>> find(StoreConnection connection) {
    return connection.call(
        kv,
        KVGrpc.KVStub::get,
        () -> GetRequest.newBuilder().setKey("k").build(),
        response -> Optional.of(response.getValue()),
        Status.Code.NOT_FOUND,
        Optional.empty());
  }

  @Test
  void call_failureWithTheAnsweringCode_isThatAnswer() throws Exception {
    answer(Status.NOT_FOUND, Status.PERMISSION_DENIED);
    StoreConnection connection = StoreConnection.over(channel, PEER, TIMEOUT);

    assertThat(find(connection).get()).isEmpty();
    assertThat(failureOf(find(connection)).code()).isEqualTo(KvException.Code.PERMISSION_DENIED);
  }

  /** A server that words one failure its own way, and says when a call may be sent again. */
  private static final class TestDialect implements StoreConnection.Dialect {
    @Override
    public KvException explain(StatusRuntimeException error, String peer) {
      return "special".equals(error.getStatus().getDescription())
          ? new KvException(KvException.Code.OUT_OF_RANGE, peer + " said it specially")
          : null;
    }

    @Override
    public boolean repair(StatusRuntimeException error) {
      return "repairable".equals(error.getStatus().getDescription());
    }
  }

  private StoreConnection withDialect() {
    return StoreConnection.owning(channel, PEER, TIMEOUT, Duration.ZERO, new TestDialect());
  }

  @Test
  void dialect_explainsTheFailuresItKnows_andLeavesTheRestToGrpcErrors() {
    StoreConnection connection = withDialect();
    answer(
        Status.INVALID_ARGUMENT.withDescription("special"),
        Status.INVALID_ARGUMENT.withDescription("plain"));

    assertThat(failureOf(get(connection)).getMessage()).isEqualTo(PEER + " said it specially");
    KvException plain = failureOf(get(connection));
    assertThat(plain.code()).isEqualTo(KvException.Code.INVALID_ARGUMENT);
    assertThat(plain.getMessage()).isEqualTo("plain");
  }

  @Test
  void dialect_repairedFailure_isSentOnceMore() throws Exception {
    StoreConnection connection = withDialect();
    answer(Status.UNAUTHENTICATED.withDescription("repairable"), "second time");

    assertThat(get(connection).get()).isEqualTo("second time");
    assertThat(calls).hasValue(2);
  }

  @Test
  void dialect_repairedFailure_isSentOnlyOnceMore() {
    StoreConnection connection = withDialect();
    answer(
        Status.UNAUTHENTICATED.withDescription("repairable"),
        Status.UNAUTHENTICATED.withDescription("repairable"),
        "never asked for");

    assertThat(failureOf(get(connection)).code()).isEqualTo(KvException.Code.UNAUTHENTICATED);
    assertThat(calls).hasValue(2);
  }

  /** A watch that opens no stream: what the connection does with it is what is tested. */
  private static final class IdleWatch extends ResumingWatch<GetRequest> {
    IdleWatch(WatchListener listener, StoreConnection connection) {
      super(0, listener, connection);
    }

    @Override
    protected void open(long from) {}
  }

  @Test
  void close_endsEveryWatch_andAWatchStartedAfterwardsEndsAtOnce() {
    StoreConnection connection = StoreConnection.over(channel, PEER, TIMEOUT);
    RecordingListener running = new RecordingListener();
    IdleWatch watch = connection.watch(new IdleWatch(running, connection));

    connection.close();
    RecordingListener late = new RecordingListener();
    IdleWatch after = connection.watch(new IdleWatch(late, connection));

    assertThat(running.error())
        .isCompletedWithValueMatching(
            error ->
                error.code() == KvException.Code.UNAVAILABLE
                    && error.getMessage().equals(PEER + ": the store was closed"));
    assertThat(watch.started()).isCompletedExceptionally();
    assertThat(late.error())
        .isCompletedWithValueMatching(error -> error.code() == KvException.Code.UNAVAILABLE);
    assertThat(after.started()).isCompletedExceptionally();
  }

  @Test
  void close_shutsDownAnOwnedChannel_butNotOneItWasGiven() {
    StoreConnection.over(channel, PEER, TIMEOUT).close();
    assertThat(channel.isShutdown()).isFalse();

    StoreConnection.owning(channel, PEER, TIMEOUT, Duration.ofSeconds(1), null).close();
    assertThat(channel.isShutdown()).isTrue();
  }
}
