package dev.kv.core.remote;

import dev.kv.api.DeleteRequest;
import dev.kv.api.DeleteResponse;
import dev.kv.api.GetRequest;
import dev.kv.api.GetResponse;
import dev.kv.api.KVGrpc;
import dev.kv.api.SetRequest;
import dev.kv.api.SetResponse;
import dev.kv.api.WatchRequest;
import dev.kv.api.WatchResponse;
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
import dev.kv.core.config.HostPort;
import dev.kv.core.grpc.ApiMessages;
import dev.kv.core.grpc.ChannelThreads;
import dev.kv.core.grpc.GrpcErrors;
import dev.kv.core.grpc.Reconnects;
import dev.kv.core.grpc.ResumingWatch;
import dev.kv.core.grpc.UnaryCallFuture;
import dev.kv.core.grpc.WatchRegistry;
import dev.kv.core.tls.ClientTls;
import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A store served by a {@code kv-server} over gRPC: the client side of the {@code kv.KV} service.
 *
 * <p>All calls share one long-lived channel, and each carries a deadline so that an unreachable
 * server becomes an error rather than a hang.
 *
 * <pre>{@code
 * try (KvStore store = RemoteStore.connect(HostPort.parse("127.0.0.1:9986"), Duration.ofSeconds(5))) {
 *   store.blocking().set("greeting", "hello");
 * }
 * }</pre>
 */
public final class RemoteStore implements KvStore {

  private static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

  private static final int MAX_RESPONSE_BYTES = 64 << 20;

  private final KVGrpc.KVStub stub;
  private final HealthGrpc.HealthStub health;
  private final String serverName;
  private final Duration timeout;
  private final ManagedChannel ownedChannel;
  private final Reconnects reconnects;
  private final WatchRegistry watches;

  private RemoteStore(
      Channel channel,
      String serverName,
      Duration timeout,
      ManagedChannel ownedChannel,
      CallCredentials credentials) {
    KVGrpc.KVStub kv = KVGrpc.newStub(Objects.requireNonNull(channel, "channel"));
    this.stub = credentials == null ? kv : kv.withCallCredentials(credentials);
    this.health = HealthGrpc.newStub(channel);
    this.serverName = Objects.requireNonNull(serverName, "serverName");
    this.timeout = Durations.requireTimeout(timeout);
    this.ownedChannel = ownedChannel;
    this.watches = new WatchRegistry("kv-server at " + serverName);
    this.reconnects = ownedChannel == null ? null : new Reconnects(ownedChannel);
  }

  /**
   * Connects to the {@code kv-server} at {@code server} over plaintext HTTP/2. The connection is
   * made on the first call, and made again whenever it is lost.
   *
   * @param timeout how long each call may take before it fails with {@link
   *     KvException.Code#DEADLINE_EXCEEDED}
   */
  public static RemoteStore connect(HostPort server, Duration timeout) {
    return builder().server(server).timeout(timeout).build();
  }

  /** A store on a connection of its own, with TLS or a token if the server asks for them. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A store over a channel that the caller made and will shut down, for example an in-process
   * channel in tests.
   *
   * @param serverName how error messages name the server
   */
  public static RemoteStore over(Channel channel, String serverName, Duration timeout) {
    return new RemoteStore(channel, serverName, timeout, null, null);
  }

  @Override
  public CompletableFuture<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
    return UnaryCallFuture.start(
        () ->
            GetRequest.newBuilder()
                .setKey(Keys.requireValid(key))
                .setConsistency(ApiMessages.consistency(consistency))
                .build(),
        (request, answer) -> withDeadline().get(request, answer),
        (GetResponse response) -> Optional.of(ApiMessages.keyValue(key, response)),
        error -> {
          if (error.getStatus().getCode() == Status.Code.NOT_FOUND) {
            return Optional.empty();
          }
          throw failure(error);
        });
  }

  @Override
  public CompletableFuture<Long> set(String key, String value, Duration ttl) {
    return call(
        () -> setRequest(key, value, ttl).build(),
        (request, answer) -> withDeadline().set(request, answer),
        SetResponse::getRevision);
  }

  @Override
  public CompletableFuture<Swap> setIf(
      String key, String value, long expectedModRevision, Duration ttl) {
    return call(
        () -> {
          SetRequest.Builder request = setRequest(key, value, ttl);
          return Keys.requireRevision(expectedModRevision) == Swap.ABSENT
              ? request.setIfAbsent(true).build()
              : request.setIfModRevision(expectedModRevision).build();
        },
        (request, answer) -> withDeadline().set(request, answer),
        (SetResponse response) ->
            new Swap(
                response.getOk(),
                response.getRevision(),
                current(response.hasCurrent(), response.getCurrent())));
  }

  private static SetRequest.Builder setRequest(String key, String value, Duration ttl) {
    return SetRequest.newBuilder()
        .setKey(Keys.requireValid(key))
        .setValue(Keys.requireValue(value))
        .setTtlSeconds(Ttl.seconds(ttl));
  }

  @Override
  public CompletableFuture<Swap> deleteIf(String key, long expectedModRevision) {
    return call(
        () ->
            DeleteRequest.newBuilder()
                .setKey(Keys.requireValid(key))
                .setIfModRevision(Keys.requireExistingRevision(expectedModRevision))
                .build(),
        (request, answer) -> withDeadline().delete(request, answer),
        (DeleteResponse response) ->
            new Swap(
                response.getApplied(),
                response.getRevision(),
                current(response.hasCurrent(), response.getCurrent())));
  }

  private static Optional<KeyValue> current(boolean present, dev.kv.api.Entry entry) {
    return present ? Optional.of(ApiMessages.keyValue(entry)) : Optional.empty();
  }

  @Override
  public CompletableFuture<Deleted> delete(String key) {
    return delete(() -> DeleteRequest.newBuilder().setKey(Keys.requireValid(key)).build());
  }

  @Override
  public CompletableFuture<Deleted> deletePrefix(String prefix) {
    return delete(
        () ->
            DeleteRequest.newBuilder()
                .setKey(Keys.requireDeletablePrefix(prefix))
                .setPrefix(true)
                .build());
  }

  private CompletableFuture<Deleted> delete(Supplier<DeleteRequest> request) {
    return call(
        request,
        (built, answer) -> withDeadline().delete(built, answer),
        (DeleteResponse response) -> new Deleted(response.getDeleted(), response.getRevision()));
  }

  @Override
  public CompletableFuture<Page> list(ListQuery query) {
    return call(
        () -> ApiMessages.request(query),
        (request, answer) -> withDeadline().list(request, answer),
        ApiMessages::page);
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
        });
  }

  @Override
  public Watch watch(WatchQuery query, WatchListener listener) {
    return watches.start(new RemoteWatch(query, listener));
  }

  /** One watch on a kv.KV/Watch stream, reopened when the server or the connection comes back. */
  private final class RemoteWatch extends ResumingWatch<WatchRequest> {
    private final WatchQuery query;

    RemoteWatch(WatchQuery query, WatchListener listener) {
      super(query.startRevision(), listener, reconnects, watches);
      this.query = query;
    }

    @Override
    protected void open(long from) {
      WatchRequest request;
      try {
        request = ApiMessages.request(new WatchQuery(query.from(), query.to(), from));
      } catch (KvException e) {
        end(e);
        return;
      }
      stub.watch(
          request,
          new ClientResponseObserver<WatchRequest, WatchResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<WatchRequest> call) {
              attach(call);
            }

            @Override
            public void onNext(WatchResponse response) {
              if (response.getCreated()) {
                created(response.getRevision());
                return;
              }
              WatchEvent event = ApiMessages.event(response);
              if (deliver(event)) {
                progressed(event.revision());
              }
            }

            @Override
            public void onError(Throwable error) {
              Status status = Status.fromThrowable(error);
              if (resumable(status.getCode())) {
                reopenLater();
              } else if (!ended()) {
                end(failure(status.asRuntimeException()));
              }
            }

            @Override
            public void onCompleted() {
              reopenLater();
            }
          });
    }

    /**
     * Whether a stream that ended with {@code code} is opened again: one the connection broke, and
     * one the server ended because this client fell behind reading it. A watch the server refused
     * from the start (at its limit of watches) ends with the error.
     */
    private boolean resumable(Status.Code code) {
      return code == Status.Code.UNAVAILABLE
          || code == Status.Code.CANCELLED
          || (code == Status.Code.RESOURCE_EXHAUSTED && started().isDone());
    }
  }

  /** Asks the server's standard health service whether {@code kv.KV} is serving. */
  @Override
  public CompletableFuture<Void> checkHealth() {
    return call(
        () -> HealthCheckRequest.newBuilder().setService(KVGrpc.SERVICE_NAME).build(),
        (request, answer) ->
            health
                .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                .check(request, answer),
        (HealthCheckResponse response) -> {
          if (response.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
            throw new KvException(
                KvException.Code.UNAVAILABLE,
                "kv-server at " + serverName + " is " + response.getStatus());
          }
          return null;
        });
  }

  private KVGrpc.KVStub withDeadline() {
    return stub.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private KvException failure(StatusRuntimeException error) {
    if (reconnects != null && error.getStatus().getCode() == Status.Code.UNAVAILABLE) {
      reconnects.soon();
    }
    return GrpcErrors.callFailure(error, "kv-server at " + serverName, timeout);
  }

  /** Closes the connection this store made; a channel given to {@link #over} stays open. */
  @Override
  public void close() {
    watches.closeAll();
    if (ownedChannel == null) {
      return;
    }
    ownedChannel.shutdown();
    try {
      if (!ownedChannel.awaitTermination(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        ownedChannel.shutdownNow();
      }
    } catch (InterruptedException e) {
      ownedChannel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** How to reach a kv-server. */
  public static final class Builder {
    private HostPort server;
    private Duration timeout = Duration.ofSeconds(5);
    private ClientTls tls;
    private String token;

    private Builder() {}

    /** The server's address. Required. */
    public Builder server(HostPort server) {
      this.server = Objects.requireNonNull(server, "server");
      return this;
    }

    /** How long each call may take. Default: 5 seconds. */
    public Builder timeout(Duration timeout) {
      this.timeout = Durations.requireTimeout(timeout);
      return this;
    }

    /** Speaks TLS, checking the server's certificate with {@code tls}. Default: plaintext. */
    public Builder tls(ClientTls tls) {
      this.tls = tls;
      return this;
    }

    /**
     * Sends {@code token} with every kv.KV call, for a server started with a token file: over TLS,
     * or in plaintext to this machine only.
     *
     * @throws IllegalArgumentException when it is not one word of printable ASCII
     */
    public Builder bearerToken(String token) {
      if (token == null || token.isEmpty() || !token.chars().allMatch(c -> c > ' ' && c < 0x7f)) {
        throw new IllegalArgumentException(
            "the token must be one word of printable ASCII, as a header carries it");
      }
      this.token = token;
      return this;
    }

    /**
     * Opens the channel; the connection is made on the first call, and again whenever it is lost.
     *
     * @throws IllegalArgumentException when a TLS file cannot be read or used
     */
    public RemoteStore build() {
      Objects.requireNonNull(server, "server");
      ManagedChannel channel =
          ChannelThreads.of(
                  NettyChannelBuilder.forAddress(
                      server.host(),
                      server.port(),
                      tls == null ? InsecureChannelCredentials.create() : tls.credentials()),
                  "kv-remote")
              // Notices a server that vanished under a watch; kv-server accepts pings every 10s.
              .keepAliveTime(30, TimeUnit.SECONDS)
              .keepAliveTimeout(10, TimeUnit.SECONDS)
              // A page is at most 4 MiB of keys and values (ListQuery.MAX_BYTES) and their
              // framing, beyond gRPC's default of 4 MiB; larger only for one entry alone, as
              // large as the server's --max-value-size lets it be.
              .maxInboundMessageSize(MAX_RESPONSE_BYTES)
              .build();
      return new RemoteStore(
          channel,
          server.toString(),
          timeout,
          channel,
          token == null ? null : new BearerToken(token));
    }
  }

  /** The {@code authorization: Bearer} header kv-server checks. */
  private static final class BearerToken extends CallCredentials {
    private static final Metadata.Key<String> AUTHORIZATION =
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final Metadata headers = new Metadata();
    private final Map<String, Boolean> loopback = new ConcurrentHashMap<>();

    BearerToken(String token) {
      headers.put(AUTHORIZATION, "Bearer " + token);
    }

    @Override
    public void applyRequestMetadata(
        RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
      if (requestInfo.getSecurityLevel() != SecurityLevel.PRIVACY_AND_INTEGRITY
          && !isLoopback(requestInfo.getAuthority())) {
        // Whoever reads the network could use a token sent in the clear.
        applier.fail(
            Status.UNAUTHENTICATED.withDescription(
                "kv does not send a token in plaintext to another machine ("
                    + requestInfo.getAuthority()
                    + "): connect with TLS"));
        return;
      }
      applier.apply(headers);
    }

    /** Whether {@code authority} names this machine; asked once per authority. */
    private boolean isLoopback(String authority) {
      return loopback.computeIfAbsent(
          authority,
          name -> {
            try {
              return HostPort.parse(name).isLoopback();
            } catch (IllegalArgumentException e) {
              return new HostPort(name, 0).isLoopback();
            }
          });
    }
  }
}
