package dev.kv.server;

import static dev.kv.core.ReadConsistency.LINEARIZABLE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.kv.api.GetRequest;
import dev.kv.api.KVGrpc;
import dev.kv.api.SetRequest;
import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.Ttl;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The service's own logic, over a mocked store: what it asks the store, what it answers. */
@Timeout(30)
class KvServiceTest {

  private final KvStore store = mock(KvStore.class);
  private Server server;
  private ManagedChannel channel;
  private KVGrpc.KVBlockingStub client;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(new KvService(store, Limits.DEFAULTS, () -> true))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    client = KVGrpc.newBlockingStub(channel);
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void get_existingKey_answersTheValue() {
    when(store.get("foo", LINEARIZABLE)).thenReturn(found("foo", "bar"));

    assertThat(client.get(getRequest("foo")).getValue()).isEqualTo("bar");
  }

  @Test
  void get_missingKey_answersNotFoundNamingTheKey() {
    when(store.get("nosuchkey", LINEARIZABLE))
        .thenReturn(CompletableFuture.completedFuture(Optional.empty()));

    assertThatThrownBy(() -> client.get(getRequest("nosuchkey")))
        .satisfies(e -> assertStatus(e, Status.Code.NOT_FOUND, "key not found: nosuchkey"));
  }

  @Test
  void get_valueThatIsNotText_answersFailedPrecondition_neverAlteredText() {
    when(store.get("foreign", LINEARIZABLE))
        .thenReturn(
            CompletableFuture.completedFuture(
                Optional.of(KeyValue.binary("foreign", new byte[] {(byte) 0xff, 0}, 2, 3, 1))));

    assertThatThrownBy(() -> client.get(getRequest("foreign")))
        .satisfies(
            e ->
                assertStatus(
                    e,
                    Status.Code.FAILED_PRECONDITION,
                    "the value of key 'foreign' is not UTF-8 text (2 bytes, written by another"
                        + " etcd client); kv reads and writes text only"));
  }

  @Test
  void set_storesTheKeyAndValue_andAnswersOk() {
    when(store.set("foo", "bar", Ttl.NONE)).thenReturn(CompletableFuture.completedFuture(7L));

    var response = client.set(setRequest("foo", "bar"));

    assertThat(response.getOk()).isTrue();
    assertThat(response.getRevision()).isEqualTo(7);
    verify(store).set("foo", "bar", Ttl.NONE);
  }

  @Test
  void storeRejectsTheRequest_answersItsCodeAndMessage() {
    when(store.set("", "bar", Ttl.NONE))
        .thenReturn(
            CompletableFuture.failedFuture(
                new KvException(KvException.Code.INVALID_ARGUMENT, "key must not be empty")));

    assertThatThrownBy(() -> client.set(setRequest("", "bar")))
        .satisfies(e -> assertStatus(e, Status.Code.INVALID_ARGUMENT, "key must not be empty"));
  }

  @Test
  void storeUnavailable_answersUnavailable() {
    when(store.get("foo", LINEARIZABLE))
        .thenReturn(
            CompletableFuture.failedFuture(
                new KvException(KvException.Code.UNAVAILABLE, "no etcd member answers")));

    assertThatThrownBy(() -> client.get(getRequest("foo")))
        .satisfies(e -> assertStatus(e, Status.Code.UNAVAILABLE, "no etcd member answers"));
  }

  @Test
  void storeFailsUnexpectedly_answersInternalNotUnknown() {
    when(store.get("foo", LINEARIZABLE))
        .thenReturn(CompletableFuture.failedFuture(new IllegalStateException("bug")));

    try (LoggedRecords logged = LoggedRecords.of(KvService.class)) {
      assertThatThrownBy(() -> client.get(getRequest("foo")))
          .satisfies(e -> assertStatus(e, Status.Code.INTERNAL, "internal error"));
      assertLoggedForTheOperator(logged, "bug");
    }
  }

  @Test
  void storeThrowsInsteadOfFailingTheFuture_answersInternalNotUnknown() {
    when(store.set("foo", "bar", Ttl.NONE)).thenThrow(new NullPointerException("bug"));

    try (LoggedRecords logged = LoggedRecords.of(KvService.class)) {
      assertThatThrownBy(() -> client.set(setRequest("foo", "bar")))
          .satisfies(e -> assertStatus(e, Status.Code.INTERNAL, "internal error"));
      assertLoggedForTheOperator(logged, "bug");
    }
  }

  /** The client is told "internal error" only; the log has the cause, for the operator. */
  private static void assertLoggedForTheOperator(LoggedRecords logged, String cause) {
    assertThat(logged.records())
        .singleElement()
        .satisfies(
            record -> {
              assertThat(record.getMessage()).isEqualTo("request failed");
              assertThat(record.getThrown()).hasMessage(cause);
            });
  }

  @Test
  void clientCancels_cancelsTheStoresWork() {
    CompletableFuture<Optional<KeyValue>> pending = new CompletableFuture<>();
    when(store.get("slow", LINEARIZABLE)).thenReturn(pending);

    var call = KVGrpc.newFutureStub(channel).get(getRequest("slow"));
    call.cancel(true);

    await().atMost(30, TimeUnit.SECONDS).until(pending::isCancelled);
  }

  @Test
  void list_limitOutOfRange_answersInvalidArgumentWithoutAskingTheStore() {
    var request = dev.kv.api.ListRequest.newBuilder().setLimit(20_000).build();

    assertThatThrownBy(() -> client.list(request))
        .satisfies(
            e ->
                assertStatus(
                    e,
                    Status.Code.INVALID_ARGUMENT,
                    "limit must be between 1 and 10000, not 20000"));
    org.mockito.Mockito.verifyNoInteractions(store);
  }

  @Test
  void list_byteBudgetBeyondFourMebibytes_answersInvalidArgumentWithoutAskingTheStore() {
    var request = dev.kv.api.ListRequest.newBuilder().setMaxBytes(5 << 20).build();

    assertThatThrownBy(() -> client.list(request))
        .satisfies(
            e ->
                assertStatus(
                    e,
                    Status.Code.INVALID_ARGUMENT,
                    "a page's byte budget must be between 1 and 4194304, not 5242880"));
    org.mockito.Mockito.verifyNoInteractions(store);
  }

  @Test
  void list_byteBudget_reachesTheStore_fourMebibytesWhenUnset() {
    when(store.list(org.mockito.ArgumentMatchers.any()))
        .thenReturn(CompletableFuture.completedFuture(new Page(List.of(), false, 1)));

    client.list(dev.kv.api.ListRequest.newBuilder().setPrefix("p/").build());
    client.list(dev.kv.api.ListRequest.newBuilder().setPrefix("p/").setMaxBytes(1_000).build());

    verify(store).list(ListQuery.prefix("p/"));
    verify(store).list(ListQuery.prefix("p/").maxBytes(1_000));
  }

  @Test
  void list_revisionAndTtl_reachTheStore_andTheTimesToLiveComeBack() {
    when(store.list(org.mockito.ArgumentMatchers.any()))
        .thenReturn(
            CompletableFuture.completedFuture(
                new Page(
                    List.of(new KeyValue("p/a", "1", 2, 2, 1), new KeyValue("p/b", "2", 3, 3, 1)),
                    false,
                    7,
                    java.util.Map.of("p/b", 42L))));

    dev.kv.api.ListResponse response =
        client.list(
            dev.kv.api.ListRequest.newBuilder()
                .setPrefix("p/")
                .setRevision(7)
                .setWithTtl(true)
                .build());

    verify(store).list(ListQuery.prefix("p/").atRevision(7).withTtl());
    assertThat(response.getEntriesList())
        .extracting(dev.kv.api.Entry::getTtlSeconds)
        .containsExactly(0L, 42L);
  }

  @Test
  void list_prefixAndRangeTogether_answersInvalidArgument() {
    var request = dev.kv.api.ListRequest.newBuilder().setPrefix("a").setRangeStart("b").build();

    assertThatThrownBy(() -> client.list(request))
        .satisfies(
            e ->
                assertStatus(
                    e, Status.Code.INVALID_ARGUMENT, "list by prefix or by range, not both"));
  }

  @Test
  void watch_clientGoesAway_closesTheStoresWatch() throws Exception {
    dev.kv.core.Watch storeWatch = mock(dev.kv.core.Watch.class);
    when(storeWatch.started()).thenReturn(CompletableFuture.completedFuture(1L));
    when(store.watch(org.mockito.ArgumentMatchers.any(), org.mockito.ArgumentMatchers.any()))
        .thenReturn(storeWatch);
    var call = channel.newCall(KVGrpc.getWatchMethod(), io.grpc.CallOptions.DEFAULT);
    io.grpc.stub.ClientCalls.asyncServerStreamingCall(
        call,
        dev.kv.api.WatchRequest.newBuilder().setKey("k").build(),
        new io.grpc.stub.StreamObserver<dev.kv.api.WatchResponse>() {
          @Override
          public void onNext(dev.kv.api.WatchResponse response) {}

          @Override
          public void onError(Throwable error) {}

          @Override
          public void onCompleted() {}
        });
    org.mockito.Mockito.verify(store, org.mockito.Mockito.timeout(5_000))
        .watch(org.mockito.ArgumentMatchers.any(), org.mockito.ArgumentMatchers.any());

    call.cancel("the client went away", null);

    org.mockito.Mockito.verify(storeWatch, org.mockito.Mockito.timeout(5_000)).close();
  }

  @Test
  void watch_eventsBeforeTheStoreHasStarted_followTheCreatedMessage() {
    // A store may deliver a replayed event before its watch's started() completes (local stores
    // replay on their own thread): the client must still hear `created` first.
    CompletableFuture<Long> started = new CompletableFuture<>();
    dev.kv.core.Watch storeWatch = mock(dev.kv.core.Watch.class);
    when(storeWatch.started()).thenReturn(started);
    var listener = new java.util.concurrent.atomic.AtomicReference<dev.kv.core.WatchListener>();
    when(store.watch(org.mockito.ArgumentMatchers.any(), org.mockito.ArgumentMatchers.any()))
        .thenAnswer(
            invocation -> {
              listener.set(invocation.getArgument(1));
              listener.get().onEvent(put("k", 3));
              listener.get().onEvent(put("k", 4));
              return storeWatch;
            });

    var responses =
        client.watch(dev.kv.api.WatchRequest.newBuilder().setKey("k").setStartRevision(3).build());
    verify(store, org.mockito.Mockito.timeout(5_000))
        .watch(org.mockito.ArgumentMatchers.any(), org.mockito.ArgumentMatchers.any());
    started.complete(3L);
    listener.get().onEvent(put("k", 5));

    var created = responses.next();
    assertThat(created.getCreated()).as("the first message says the watch is in place").isTrue();
    assertThat(created.hasEntry()).isFalse();
    var events = java.util.List.of(responses.next(), responses.next(), responses.next());
    assertThat(events)
        .extracting(event -> event.getEntry().getModRevision())
        .containsExactly(3L, 4L, 5L);
    assertThat(created.getRevision())
        .isLessThanOrEqualTo(events.get(0).getEntry().getModRevision());
  }

  @Test
  void watch_eventsHeldForTheCreatedMessage_stayWithinTheWatchsBudget() {
    dev.kv.core.Watch storeWatch = mock(dev.kv.core.Watch.class);
    when(storeWatch.started()).thenReturn(new CompletableFuture<>());
    String megabyte = "x".repeat(1 << 20);
    when(store.watch(org.mockito.ArgumentMatchers.any(), org.mockito.ArgumentMatchers.any()))
        .thenAnswer(
            invocation -> {
              dev.kv.core.WatchListener listener = invocation.getArgument(1);
              for (long revision = 3; revision < 8; revision++) {
                listener.onEvent(
                    new dev.kv.core.WatchEvent(
                        dev.kv.core.WatchEvent.Type.PUT,
                        new KeyValue("k", megabyte, 2, revision, 1)));
              }
              return storeWatch;
            });

    var responses =
        client.watch(dev.kv.api.WatchRequest.newBuilder().setKey("k").setStartRevision(3).build());

    assertThatThrownBy(responses::next)
        .satisfies(
            e ->
                assertStatus(
                    e,
                    Status.Code.RESOURCE_EXHAUSTED,
                    "the client reads this watch too slowly: it fell more than 4MiB behind; it"
                        + " was ended, watch again from revision 3"));
    verify(storeWatch, org.mockito.Mockito.timeout(5_000)).close();
  }

  private static dev.kv.core.WatchEvent put(String key, long revision) {
    return new dev.kv.core.WatchEvent(
        dev.kv.core.WatchEvent.Type.PUT, new KeyValue(key, "v" + revision, 2, revision, 1));
  }

  private static CompletableFuture<Optional<KeyValue>> found(String key, String value) {
    return CompletableFuture.completedFuture(Optional.of(new KeyValue(key, value, 2, 2, 1)));
  }

  static GetRequest getRequest(String key) {
    return GetRequest.newBuilder().setKey(key).build();
  }

  static SetRequest setRequest(String key, String value) {
    return SetRequest.newBuilder().setKey(key).setValue(value).build();
  }

  static void assertStatus(Throwable error, Status.Code code, String description) {
    assertThat(error).isInstanceOf(StatusRuntimeException.class);
    Status status = ((StatusRuntimeException) error).getStatus();
    assertThat(status.getCode()).isEqualTo(code);
    assertThat(status.getDescription()).isEqualTo(description);
  }
}
