package dev.kv.core.etcd;

import com.google.protobuf.ByteString;
import dev.kv.core.Deleted;
import dev.kv.core.KeyValue;
import dev.kv.core.Keys;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.ReadConsistency;
import dev.kv.core.Swap;
import dev.kv.core.Ttl;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.config.Durations;
import dev.kv.core.grpc.ChannelThreads;
import dev.kv.core.grpc.GrpcErrors;
import dev.kv.core.grpc.Reconnects;
import dev.kv.core.grpc.ResumingWatch;
import dev.kv.core.grpc.UnaryCallFuture;
import dev.kv.core.grpc.WatchRegistry;
import dev.kv.core.tls.ClientTls;
import dev.kv.etcd.api.etcdserverpb.AuthGrpc;
import dev.kv.etcd.api.etcdserverpb.Compare;
import dev.kv.etcd.api.etcdserverpb.DeleteRangeRequest;
import dev.kv.etcd.api.etcdserverpb.DeleteRangeResponse;
import dev.kv.etcd.api.etcdserverpb.KVGrpc;
import dev.kv.etcd.api.etcdserverpb.LeaseGrantRequest;
import dev.kv.etcd.api.etcdserverpb.LeaseGrantResponse;
import dev.kv.etcd.api.etcdserverpb.LeaseGrpc;
import dev.kv.etcd.api.etcdserverpb.LeaseRevokeRequest;
import dev.kv.etcd.api.etcdserverpb.LeaseRevokeResponse;
import dev.kv.etcd.api.etcdserverpb.MaintenanceGrpc;
import dev.kv.etcd.api.etcdserverpb.PutRequest;
import dev.kv.etcd.api.etcdserverpb.PutResponse;
import dev.kv.etcd.api.etcdserverpb.RangeRequest;
import dev.kv.etcd.api.etcdserverpb.RangeResponse;
import dev.kv.etcd.api.etcdserverpb.RequestOp;
import dev.kv.etcd.api.etcdserverpb.StatusRequest;
import dev.kv.etcd.api.etcdserverpb.StatusResponse;
import dev.kv.etcd.api.etcdserverpb.TxnRequest;
import dev.kv.etcd.api.etcdserverpb.TxnResponse;
import dev.kv.etcd.api.etcdserverpb.WatchCreateRequest;
import dev.kv.etcd.api.etcdserverpb.WatchGrpc;
import dev.kv.etcd.api.etcdserverpb.WatchRequest;
import dev.kv.etcd.api.etcdserverpb.WatchResponse;
import dev.kv.etcd.api.mvccpb.Event;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A store kept in an etcd cluster, reached over etcd's own v3 gRPC API.
 *
 * <p>One long-lived channel reaches every member: calls are spread over the members that answer,
 * and move away from one that goes away. Every call carries a deadline. Reads are linearizable, and
 * are retried on another member when one is unavailable; writes are not retried once sent, since a
 * retry could apply them twice.
 *
 * <p>Keys and values are stored as their UTF-8 bytes, so other etcd clients read them as text. A
 * cluster shared with other programs may hold values that are not UTF-8 text: listings and watches
 * give them as {@link KeyValue#binary} entries, while {@link #get} of such a key fails with {@link
 * KvException.Code#FAILED_PRECONDITION} rather than return altered text. Keys that are not UTF-8
 * text cannot be named through this API at all: listings and watches leave them out.
 *
 * <pre>{@code
 * try (KvStore store = EtcdStore.builder()
 *     .endpoints(EtcdEndpoints.parse("http://127.0.0.1:2379"))
 *     .build()) {
 *   store.blocking().set("greeting", "hello");
 * }
 * }</pre>
 */
public final class EtcdStore implements KvStore {

  /** The key etcd's own health check reads; reading it is cheap and needs a quorum. */
  private static final ByteString HEALTH_KEY = ByteString.copyFromUtf8("health");

  /** The smallest key: as a range start, every key; as a range end, no end. */
  private static final ByteString FIRST_KEY = ByteString.copyFrom(new byte[] {0});

  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  private final ManagedChannel channel;
  private final KVGrpc.KVStub kv;
  private final LeaseGrpc.LeaseStub lease;
  private final MaintenanceGrpc.MaintenanceStub maintenance;
  private final String peer;
  private final Duration timeout;
  private final Reconnects reconnects;
  private final WatchGrpc.WatchStub watchStub;
  private final WatchRegistry watches;
  private final EtcdToken token;

  private final ReadBatcher reads =
      new ReadBatcher(
          request ->
              this.<RangeRequest, RangeResponse, RangeResponse>call(
                  () -> request, (r, answer) -> withDeadline().range(r, answer), r -> r),
          request ->
              this.<TxnRequest, TxnResponse, TxnResponse>call(
                  () -> request, (r, answer) -> withDeadline().txn(r, answer), r -> r));

  private EtcdStore(Builder builder) {
    EtcdEndpoints endpoints = Objects.requireNonNull(builder.endpoints, "endpoints");
    String authority =
        builder.authority != null ? builder.authority : endpoints.members().get(0).toString();
    this.timeout = builder.timeout;
    this.peer = "etcd at " + endpoints;
    this.watches = new WatchRegistry(peer);
    this.channel =
        openChannel(
            endpoints, builder.authority, authority, credentials(builder), builder.directExecutor);
    this.token =
        builder.user == null
            ? null
            : new EtcdToken(
                AuthGrpc.newStub(channel), builder.user, builder.password, peer, timeout);
    // A member without a leader cancels such a watch rather than keep it silently stalled.
    Metadata requireLeader = new Metadata();
    requireLeader.put(Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER), "true");
    WatchGrpc.WatchStub watch =
        WatchGrpc.newStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(requireLeader));
    KVGrpc.KVStub kv = KVGrpc.newStub(channel);
    LeaseGrpc.LeaseStub lease = LeaseGrpc.newStub(channel);
    MaintenanceGrpc.MaintenanceStub maintenance = MaintenanceGrpc.newStub(channel);
    if (token != null) {
      watch = watch.withCallCredentials(token);
      kv = kv.withCallCredentials(token);
      lease = lease.withCallCredentials(token);
      maintenance = maintenance.withCallCredentials(token);
    }
    this.watchStub = watch;
    this.kv = kv;
    this.lease = lease;
    this.maintenance = maintenance;
    this.reconnects = new Reconnects(channel);
  }

  private static ChannelCredentials credentials(Builder builder) {
    if (!builder.endpoints.https()) {
      if (builder.tls != null) {
        throw new IllegalArgumentException(
            "TLS files are given, but the etcd endpoints "
                + builder.endpoints
                + " are http://: use https:// endpoints for etcd members that serve TLS");
      }
      return InsecureChannelCredentials.create();
    }
    return (builder.tls != null ? builder.tls : new ClientTls(null, null, null)).credentials();
  }

  public static Builder builder() {
    return new Builder();
  }

  @SuppressWarnings("deprecation") // nameResolverFactory: the resolver is this channel's own
  private static ManagedChannel openChannel(
      EtcdEndpoints endpoints,
      String givenAuthority,
      String authority,
      ChannelCredentials credentials,
      boolean directExecutor) {
    NettyChannelBuilder channel =
        ChannelThreads.of(
            NettyChannelBuilder.forTarget(EndpointsNameResolver.SCHEME + ":///", credentials),
            "kv-etcd");
    if (directExecutor) {
      channel.directExecutor();
    }
    return channel
        .nameResolverFactory(
            EndpointsNameResolver.factory(endpoints, authority, givenAuthority == null))
        .defaultServiceConfig(serviceConfig())
        .enableRetry()
        // Notices a member that vanished without closing its connections. etcd accepts pings
        // every 5s or more while calls are open, and none without (its defaults).
        .keepAliveTime(10, TimeUnit.SECONDS)
        .keepAliveTimeout(5, TimeUnit.SECONDS)
        // etcd accepts requests up to 1.5 MiB and may answer larger ranges.
        .maxInboundMessageSize(64 * 1024 * 1024)
        .build();
  }

  /**
   * Round robin over the members that answer; reads retried on UNAVAILABLE, which etcd answers for
   * a member that lost its leader or its connection. Writes get only gRPC's transparent retries,
   * which resend a call that never reached a member.
   */
  private static Map<String, Object> serviceConfig() {
    Map<String, Object> retryReads =
        Map.of(
            "name", List.of(Map.of("service", "etcdserverpb.KV", "method", "Range")),
            "retryPolicy",
                Map.of(
                    "maxAttempts",
                    5.0,
                    "initialBackoff",
                    "0.05s",
                    "maxBackoff",
                    "1s",
                    "backoffMultiplier",
                    2.0,
                    "retryableStatusCodes",
                    List.of("UNAVAILABLE")));
    return Map.of(
        "loadBalancingConfig", List.of(Map.of("round_robin", Map.of())),
        "methodConfig", List.of(retryReads));
  }

  @Override
  public CompletableFuture<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
    if (consistency == ReadConsistency.LINEARIZABLE) {
      ByteString name;
      try {
        name = utf8(Keys.requireValid(key));
      } catch (KvException e) {
        return CompletableFuture.failedFuture(e);
      }
      return reads.read(name).thenApply(EtcdStore::firstEntry);
    }
    return call(
        () ->
            RangeRequest.newBuilder()
                .setKey(utf8(Keys.requireValid(key)))
                .setSerializable(consistency == ReadConsistency.SERIALIZABLE)
                .build(),
        (request, answer) -> withDeadline().range(request, answer),
        EtcdStore::firstEntry);
  }

  private static Optional<KeyValue> firstEntry(RangeResponse response) {
    if (response.getKvsCount() == 0) {
      return Optional.empty();
    }
    KeyValue entry = entry(response.getKvs(0));
    if (!entry.isText()) {
      throw KvException.notText(entry);
    }
    return Optional.of(entry);
  }

  @Override
  public CompletableFuture<Long> set(String key, String value, Duration ttl) {
    return withLease(
        key,
        value,
        ttl,
        lease ->
            call(
                () -> put(key, value, lease).build(),
                (request, answer) -> withDeadline().put(request, answer),
                (PutResponse response) -> response.getHeader().getRevision()));
  }

  @Override
  public CompletableFuture<Swap> setIf(
      String key, String value, long expectedModRevision, Duration ttl) {
    return withLease(
        key,
        value,
        ttl,
        lease ->
            swap(
                key,
                () -> Keys.requireRevision(expectedModRevision),
                () -> RequestOp.newBuilder().setRequestPut(put(key, value, lease)).build()));
  }

  private static PutRequest.Builder put(String key, String value, long lease) {
    return PutRequest.newBuilder()
        .setKey(utf8(Keys.requireValid(key)))
        .setValue(utf8(Keys.requireValue(value)))
        .setLease(lease);
  }

  /**
   * Runs {@code write} with the ID of a lease granted for {@code ttl}, or 0 (no lease) when there
   * is none: etcd deletes a key when its lease expires.
   */
  private <T> CompletableFuture<T> withLease(
      String key, String value, Duration ttl, LongFunction<CompletableFuture<T>> write) {
    long seconds;
    try {
      Keys.requireValid(key);
      Keys.requireValue(value);
      seconds = Ttl.seconds(ttl);
    } catch (KvException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (seconds == 0) {
      return write.apply(0);
    }
    return this.<LeaseGrantRequest, LeaseGrantResponse, Long>call(
            () -> LeaseGrantRequest.newBuilder().setTTL(seconds).build(),
            (request, answer) ->
                lease
                    .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                    .leaseGrant(request, answer),
            LeaseGrantResponse::getID)
        .thenCompose(
            granted ->
                write
                    .apply(granted)
                    .whenComplete(
                        (result, error) -> {
                          // A lease no key took would linger, keyless, until its TTL ran out.
                          if (error != null || (result instanceof Swap swap && !swap.applied())) {
                            revoke(granted);
                          }
                        }));
  }

  /** Revokes a lease, deleting what it holds; a failure leaves it to expire by itself. */
  private void revoke(long leaseId) {
    lease
        .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
        .leaseRevoke(
            LeaseRevokeRequest.newBuilder().setID(leaseId).build(),
            new StreamObserver<>() {
              @Override
              public void onNext(LeaseRevokeResponse response) {}

              @Override
              public void onError(Throwable error) {}

              @Override
              public void onCompleted() {}
            });
  }

  @Override
  public CompletableFuture<Swap> deleteIf(String key, long expectedModRevision) {
    return swap(
        key,
        () -> Keys.requireExistingRevision(expectedModRevision),
        () ->
            RequestOp.newBuilder()
                .setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(utf8(key)))
                .build());
  }

  /**
   * One transaction: if the key's mod revision is {@code expected} (0 when absent), apply {@code
   * write}; otherwise read the key as it is.
   */
  private CompletableFuture<Swap> swap(
      String key, LongSupplier expected, Supplier<RequestOp> write) {
    return call(
        () -> {
          ByteString name = utf8(Keys.requireValid(key));
          return TxnRequest.newBuilder()
              .addCompare(
                  Compare.newBuilder()
                      .setKey(name)
                      .setTarget(Compare.CompareTarget.MOD)
                      .setResult(Compare.CompareResult.EQUAL)
                      .setModRevision(expected.getAsLong()))
              .addSuccess(write.get())
              .addFailure(
                  RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(name)))
              .build();
        },
        (request, answer) -> withDeadline().txn(request, answer),
        (TxnResponse response) ->
            response.getSucceeded()
                ? new Swap(true, response.getHeader().getRevision(), Optional.empty())
                : new Swap(
                    false,
                    response.getHeader().getRevision(),
                    response.getResponses(0).getResponseRange().getKvsList().stream()
                        .findFirst()
                        .map(EtcdStore::entry)));
  }

  @Override
  public CompletableFuture<Deleted> delete(String key) {
    return deleteRange(() -> DeleteRangeRequest.newBuilder().setKey(utf8(Keys.requireValid(key))));
  }

  @Override
  public CompletableFuture<Deleted> deletePrefix(String prefix) {
    return deleteRange(
        () ->
            DeleteRangeRequest.newBuilder()
                .setKey(utf8(Keys.requireDeletablePrefix(prefix)))
                .setRangeEnd(rangeEnd(Keys.prefixEnd(prefix))));
  }

  private CompletableFuture<Deleted> deleteRange(Supplier<DeleteRangeRequest.Builder> request) {
    return call(
        () -> request.get().build(),
        (built, answer) -> withDeadline().deleteRange(built, answer),
        (DeleteRangeResponse response) ->
            new Deleted(response.getDeleted(), response.getHeader().getRevision()));
  }

  /**
   * {@inheritDoc}
   *
   * <p>Keys that are not UTF-8 text, which other etcd clients may write, are left out, so a page
   * may hold fewer entries than its limit; it is never empty while {@link Page#more()}. etcd has no
   * byte limit of its own: {@link PageReader} reads each page in Ranges that keep it.
   */
  @Override
  public CompletableFuture<Page> list(ListQuery query) {
    RangeRequest range =
        RangeRequest.newBuilder()
            .setKey(query.pageStart().isEmpty() ? FIRST_KEY : utf8(query.pageStart()))
            .setRangeEnd(rangeEnd(query.to()))
            .setKeysOnly(query.keysOnly())
            .setSerializable(query.consistency() == ReadConsistency.SERIALIZABLE)
            .build();
    return PageReader.read(
        query,
        range,
        (request, maxResponseBytes) ->
            call(
                () -> request,
                (RangeRequest built, StreamObserver<RangeResponse> answer) -> {
                  KVGrpc.KVStub stub = withDeadline();
                  (maxResponseBytes > 0 ? stub.withMaxInboundMessageSize(maxResponseBytes) : stub)
                      .range(built, answer);
                },
                Function.identity()));
  }

  /** etcd's end of a range: the key itself, or "\0" for no end. */
  private static ByteString rangeEnd(String to) {
    return to.isEmpty() ? FIRST_KEY : utf8(to);
  }

  @Override
  public Watch watch(WatchQuery query, WatchListener listener) {
    return watches.start(new EtcdWatch(query, listener));
  }

  /** One watch on an etcd watch stream, reopened on whichever member answers when it breaks. */
  private final class EtcdWatch extends ResumingWatch<WatchRequest> {
    private final WatchQuery query;

    EtcdWatch(WatchQuery query, WatchListener listener) {
      super(query.startRevision(), listener, reconnects, watches);
      this.query = query;
    }

    @Override
    protected void open(long from) {
      watchStub
          .watch(
              new ClientResponseObserver<WatchRequest, WatchResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<WatchRequest> requests) {
                  attach(requests);
                }

                @Override
                public void onNext(WatchResponse response) {
                  receive(response, from);
                }

                @Override
                public void onError(Throwable error) {
                  if (token != null && error instanceof StatusRuntimeException status) {
                    token.renewIfStale(status);
                  }
                  reopenLater();
                }

                @Override
                public void onCompleted() {
                  reopenLater();
                }
              })
          .onNext(
              WatchRequest.newBuilder()
                  .setCreateRequest(
                      WatchCreateRequest.newBuilder()
                          .setKey(query.from().isEmpty() ? FIRST_KEY : utf8(query.from()))
                          .setRangeEnd(rangeEnd(query.to()))
                          .setStartRevision(from)
                          // Lets a quiet watch move past revisions that are later compacted.
                          .setProgressNotify(true))
                  .build());
    }

    private void receive(WatchResponse response, long from) {
      if (ended()) {
        return;
      }
      if (response.getCanceled()) {
        if (response.getCompactRevision() > 0) {
          end(
              new KvException(
                  KvException.Code.OUT_OF_RANGE,
                  "revision "
                      + from
                      + " is no longer kept (etcd compacted it); the oldest available is "
                      + response.getCompactRevision()));
        } else if (token != null && response.getCancelReason().contains("invalid auth token")) {
          // etcd checks the token as each watch starts: an expired one is renewed.
          token.renew();
          reopenLater();
        } else if (response.getCancelReason().contains("permission denied")) {
          end(
              new KvException(
                  KvException.Code.PERMISSION_DENIED,
                  peer + " denied the watch: " + response.getCancelReason()));
        } else {
          // For example "no leader": another member may serve it.
          reopenLater();
        }
        return;
      }
      long header = response.getHeader().getRevision();
      if (response.getCreated()) {
        // Not progress: its header is the current revision, and a stream opened from an older one
        // replays the changes in between only after it.
        created(header + 1);
        return;
      }
      if (response.getEventsCount() == 0) {
        // A progress notice: nothing up to the header revision is left to deliver. etcd sends one
        // only to a watcher that has caught up, on the same channel as its events.
        progressed(header);
        return;
      }
      for (Event event : response.getEventsList()) {
        if (!hasTextKey(event.getKv())) {
          // Another etcd client's key that no kv query can name, nor any listener use.
          continue;
        }
        WatchEvent delivered =
            event.getType() == Event.EventType.DELETE
                ? WatchEvent.deleted(
                    event.getKv().getKey().toStringUtf8(), event.getKv().getModRevision())
                : new WatchEvent(WatchEvent.Type.PUT, entry(event.getKv()));
        if (!deliver(delivered)) {
          return;
        }
      }
      // Only once the whole revision is delivered: a reopen resends none of it, skips none.
      progressed(response.getEvents(response.getEventsCount() - 1).getKv().getModRevision());
    }
  }

  /**
   * Answers once the cluster serves a quorum read, and raises no alarm that stops writes. A user
   * without access to the key read counts as healthy, as etcdctl's health check has it: the cluster
   * answered, and kv's data may well be elsewhere. A cluster over its space quota still reads, but
   * refuses every write until an operator frees space: it fails the check, as a full disk fails the
   * embedded store's.
   */
  @Override
  public CompletableFuture<Void> checkHealth() {
    return quorumRead().thenCompose(answered -> requireNoSpaceAlarm());
  }

  private CompletableFuture<Void> quorumRead() {
    return UnaryCallFuture.start(
        () -> RangeRequest.newBuilder().setKey(HEALTH_KEY).setCountOnly(true).build(),
        (RangeRequest request, StreamObserver<RangeResponse> answer) ->
            withDeadline().range(request, answer),
        response -> null,
        error -> {
          if (error.getStatus().getCode() == Status.Code.PERMISSION_DENIED) {
            return null;
          }
          throw failure(error);
        },
        error -> token != null && token.renewIfStale(error));
  }

  /**
   * Fails while etcd's NOSPACE alarm is raised: a member raises it when its database reaches its
   * quota ({@code --quota-backend-bytes}), for the whole cluster, and only an operator disarms it.
   * Status lists the alarms among its errors; it is answered by the member, without a quorum.
   */
  private CompletableFuture<Void> requireNoSpaceAlarm() {
    return UnaryCallFuture.start(
        StatusRequest::getDefaultInstance,
        (StatusRequest request, StreamObserver<StatusResponse> answer) ->
            maintenance
                .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                .status(request, answer),
        status -> {
          if (status.getErrorsList().stream().anyMatch(error -> error.contains("alarm:NOSPACE"))) {
            throw new KvException(
                KvException.Code.UNAVAILABLE,
                peer
                    + " is over its space quota (alarm NOSPACE) and refuses every write: free"
                    + " space (compact, defragment) or raise --quota-backend-bytes, then disarm"
                    + " the alarm (etcdctl alarm disarm)");
          }
          return null;
        },
        error -> {
          // A server that speaks etcd's KV API but not its maintenance API raises no alarm.
          if (error.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
            return null;
          }
          throw failure(error);
        },
        error -> token != null && token.renewIfStale(error));
  }

  /** Starts one call; every failure becomes a failed future with a message for a person. */
  private <ReqT, RespT, T> CompletableFuture<T> call(
      Supplier<ReqT> request,
      BiConsumer<ReqT, StreamObserver<RespT>> send,
      Function<RespT, T> onResponse) {
    return UnaryCallFuture.start(
        request,
        send,
        onResponse,
        error -> {
          throw failure(error);
        },
        error -> token != null && token.renewIfStale(error));
  }

  private KVGrpc.KVStub withDeadline() {
    return kv.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private KvException failure(StatusRuntimeException error) {
    if (error.getStatus().getCode() == Status.Code.UNAVAILABLE) {
      reconnects.soon();
    }
    if (String.valueOf(error.getStatus().getDescription()).contains("request is too large")) {
      return new KvException(
          KvException.Code.INVALID_ARGUMENT,
          peer + " refused the request as too large for it (its --max-request-bytes)",
          error);
    }
    if (String.valueOf(error.getStatus().getDescription()).contains("user name is empty")) {
      // etcd's answer to a call without a token once authentication is enabled.
      return new KvException(
          KvException.Code.UNAUTHENTICATED,
          peer + " has authentication enabled, and no etcd user was given",
          error);
    }
    return GrpcErrors.callFailure(error, peer, timeout);
  }

  private static ByteString utf8(String text) {
    return ByteString.copyFromUtf8(text);
  }

  /** Whether kv can name the key: other etcd clients may write keys that are not UTF-8 text. */
  static boolean hasTextKey(dev.kv.etcd.api.mvccpb.KeyValue stored) {
    return stored.getKey().isValidUtf8();
  }

  /**
   * An entry etcd holds under a text key: with its value as text, or as its bytes when another
   * client stored a value that is not UTF-8 text.
   */
  static KeyValue entry(dev.kv.etcd.api.mvccpb.KeyValue stored) {
    String key = stored.getKey().toStringUtf8();
    ByteString value = stored.getValue();
    return value.isValidUtf8()
        ? new KeyValue(
            key,
            value.toStringUtf8(),
            stored.getCreateRevision(),
            stored.getModRevision(),
            stored.getVersion())
        : KeyValue.binary(
            key,
            value.toByteArray(),
            stored.getCreateRevision(),
            stored.getModRevision(),
            stored.getVersion());
  }

  @Override
  public void close() {
    watches.closeAll();
    channel.shutdown();
    try {
      if (!channel.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** How to reach the cluster. */
  public static final class Builder {
    private EtcdEndpoints endpoints;
    private String authority;
    private Duration timeout = DEFAULT_TIMEOUT;
    private boolean directExecutor;
    private ClientTls tls;
    private String user;
    private String password;

    private Builder() {}

    /** The members' client URLs. Required. */
    public Builder endpoints(EtcdEndpoints endpoints) {
      this.endpoints = Objects.requireNonNull(endpoints, "endpoints");
      return this;
    }

    /**
     * The {@code :authority} every call carries, for an L7 proxy that routes on it (such as an
     * Envoy listener that sends authority {@code etcd} to the cluster). By default, the first
     * endpoint's {@code host:port}.
     */
    public Builder authority(String authority) {
      this.authority = authority == null || authority.isBlank() ? null : authority;
      return this;
    }

    /** How long each call may take, retries included. Default: 5 seconds. */
    public Builder timeout(Duration timeout) {
      this.timeout = Durations.requireTimeout(timeout);
      return this;
    }

    /**
     * Completes the store's futures on gRPC's network threads rather than on a pool: a third less
     * CPU per call (measured through kv-server), for callers whose callbacks never block, as
     * kv-server's. A callback that blocks would stall every call.
     */
    public Builder directExecutor() {
      this.directExecutor = true;
      return this;
    }

    /**
     * The CA that signs the members' certificates, and this client's certificate when they ask for
     * one ({@code --client-cert-auth}). For {@code https://} endpoints only; without it, they are
     * checked against the system's trusted CAs.
     */
    public Builder tls(ClientTls tls) {
      this.tls = tls;
      return this;
    }

    /**
     * Signs in as {@code user}, for a cluster with authentication enabled: every call carries the
     * token etcd gives for the password, renewed when it expires.
     */
    public Builder user(String user, String password) {
      if (user == null || user.isEmpty() || password == null) {
        throw new IllegalArgumentException("an etcd user needs a name and a password");
      }
      this.user = user;
      this.password = password;
      return this;
    }

    /** Opens the channel; members are connected to on the first call. */
    public EtcdStore build() {
      return new EtcdStore(this);
    }
  }
}
