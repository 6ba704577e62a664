package dev.kv.core.remote;

import dev.kv.api.DeleteRequest;
import dev.kv.api.GetRequest;
import dev.kv.api.GetResponse;
import dev.kv.api.KVGrpc;
import dev.kv.api.SetRequest;
import dev.kv.api.SetResponse;
import dev.kv.api.SnapshotRequest;
import dev.kv.api.StatusRequest;
import dev.kv.core.AbstractKvStore;
import dev.kv.core.Deleted;
import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.ReadConsistency;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.StoreStatus;
import dev.kv.core.Swap;
import dev.kv.core.Watch;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.config.Durations;
import dev.kv.core.config.HostPort;
import dev.kv.core.grpc.ApiMessages;
import dev.kv.core.grpc.ChannelThreads;
import dev.kv.core.grpc.NetworkThread;
import dev.kv.core.grpc.SnapshotDownload;
import dev.kv.core.grpc.StatusMessages;
import dev.kv.core.grpc.StoreConnection;
import dev.kv.core.tls.ClientTls;
import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A store served by a {@code kv-server} over gRPC: the client side of the {@code kv.KV} service.
 *
 * <p>All calls share one long-lived channel, and each carries a deadline so that an unreachable
 * server becomes an error rather than a hang. A store that {@link #builder} makes has a network
 * thread of its own, and completes the futures of its calls there unless given an executor (see
 * {@link Builder#executor}).
 *
 * <pre>{@code
 * try (KvStore store = RemoteStore.connect(HostPort.parse("127.0.0.1:9986"), Duration.ofSeconds(5))) {
 *   store.blocking().set("greeting", "hello");
 * }
 * }</pre>
 */
public final class RemoteStore extends AbstractKvStore {

  private static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

  private static final int MAX_RESPONSE_BYTES = 64 << 20;

  private final KVGrpc.KVStub kv;
  private final KVGrpc.KVStub watches;
  private final HealthGrpc.HealthStub health;
  private final StoreConnection connection;
  private final NetworkThread network;

  /**
   * @param listenerThreads where watch listeners run, which may block for a while; null for the
   *     channel's executor
   */
  private RemoteStore(
      Channel channel,
      StoreConnection connection,
      CallCredentials credentials,
      Executor listenerThreads,
      NetworkThread network,
      MeterRegistry metrics) {
    super("the client of " + connection.peer(), "remote", metrics);
    this.network = network;
    KVGrpc.KVStub kv = KVGrpc.newStub(channel);
    this.kv = credentials == null ? kv : kv.withCallCredentials(credentials);
    this.watches = listenerThreads == null ? this.kv : this.kv.withExecutor(listenerThreads);
    this.health = HealthGrpc.newStub(channel);
    this.connection = connection;
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
    Objects.requireNonNull(channel, "channel");
    StoreConnection connection =
        StoreConnection.over(channel, peer(serverName), Durations.requireTimeout(timeout));
    return new RemoteStore(channel, connection, null, null, null, null);
  }

  /** How messages name the server. */
  private static String peer(String serverName) {
    return "kv-server at " + Objects.requireNonNull(serverName, "serverName");
  }

  @Override
  protected CompletableFuture<Optional<KeyValue>> doGet(String key, ReadConsistency consistency) {
    return connection.call(
        kv,
        KVGrpc.KVStub::get,
        () ->
            GetRequest.newBuilder()
                .setKey(key)
                .setConsistency(ApiMessages.consistency(consistency))
                .build(),
        (GetResponse response) -> Optional.of(ApiMessages.keyValue(key, response)),
        Status.Code.NOT_FOUND,
        Optional.empty());
  }

  @Override
  protected CompletableFuture<Long> doSet(String key, String value, long ttlSeconds) {
    return connection.call(
        kv,
        KVGrpc.KVStub::set,
        () -> setRequest(key, value, ttlSeconds).build(),
        SetResponse::getRevision);
  }

  @Override
  protected CompletableFuture<Swap> doSetIf(
      String key, String value, long expectedModRevision, long ttlSeconds) {
    return connection.call(
        kv,
        KVGrpc.KVStub::set,
        () -> {
          SetRequest.Builder request = setRequest(key, value, ttlSeconds);
          return expectedModRevision == Swap.ABSENT
              ? request.setIfAbsent(true).build()
              : request.setIfModRevision(expectedModRevision).build();
        },
        response ->
            new Swap(
                response.getOk(),
                response.getRevision(),
                current(response.hasCurrent(), response.getCurrent())));
  }

  private static SetRequest.Builder setRequest(String key, String value, long ttlSeconds) {
    return SetRequest.newBuilder().setKey(key).setValue(value).setTtlSeconds(ttlSeconds);
  }

  @Override
  protected CompletableFuture<Swap> doDeleteIf(String key, long expectedModRevision) {
    return connection.call(
        kv,
        KVGrpc.KVStub::delete,
        () -> DeleteRequest.newBuilder().setKey(key).setIfModRevision(expectedModRevision).build(),
        response ->
            new Swap(
                response.getApplied(),
                response.getRevision(),
                current(response.hasCurrent(), response.getCurrent())));
  }

  private static Optional<KeyValue> current(boolean present, dev.kv.api.Entry entry) {
    return present ? Optional.of(ApiMessages.keyValue(entry)) : Optional.empty();
  }

  @Override
  protected CompletableFuture<Deleted> doDelete(String key) {
    return delete(DeleteRequest.newBuilder().setKey(key).build());
  }

  @Override
  protected CompletableFuture<Deleted> doDeletePrefix(String prefix) {
    return delete(DeleteRequest.newBuilder().setKey(prefix).setPrefix(true).build());
  }

  private CompletableFuture<Deleted> delete(DeleteRequest request) {
    return connection.call(
        kv,
        KVGrpc.KVStub::delete,
        () -> request,
        response -> new Deleted(response.getDeleted(), response.getRevision()));
  }

  @Override
  protected CompletableFuture<Page> doList(ListQuery query) {
    return connection.call(
        kv, KVGrpc.KVStub::list, () -> ApiMessages.request(query), ApiMessages::page);
  }

  @Override
  public Watch watch(WatchQuery query, WatchListener listener) {
    return connection.watch(new RemoteWatch(query, listener, watches, connection));
  }

  /**
   * {@inheritDoc}
   *
   * <p>The server's store's snapshot, streamed by kv.KV/Snapshot, and written as it comes. A stream
   * cut short fails the snapshot: it is never resumed.
   */
  @Override
  public CompletableFuture<SnapshotInfo> snapshot(OutputStream out) {
    Objects.requireNonNull(out, "out");
    return SnapshotDownload.start(
        kv,
        KVGrpc.KVStub::snapshot,
        SnapshotRequest.getDefaultInstance(),
        out,
        new RemoteSnapshot(connection.peer()),
        connection,
        "kv-remote-snapshot");
  }

  /** Asks the server's standard health service whether {@code kv.KV} is serving. */
  @Override
  public CompletableFuture<Void> checkHealth() {
    return connection.call(
        health,
        HealthGrpc.HealthStub::check,
        () -> HealthCheckRequest.newBuilder().setService(KVGrpc.SERVICE_NAME).build(),
        response -> {
          if (response.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
            throw new KvException(
                KvException.Code.UNAVAILABLE, connection.peer() + " is " + response.getStatus());
          }
          return null;
        });
  }

  /**
   * The server's store, as the server's status call answers, with the server's own version, health
   * and uptime. A server older than the call fails it with {@link KvException.Code#INTERNAL},
   * saying so.
   */
  @Override
  public CompletableFuture<StoreStatus> status() {
    return connection
        .call(
            kv,
            KVGrpc.KVStub::status,
            StatusRequest::getDefaultInstance,
            StatusMessages::status,
            Status.Code.UNIMPLEMENTED,
            null)
        .thenApply(
            status -> {
              if (status == null) {
                throw new KvException(
                    KvException.Code.INTERNAL,
                    connection.peer() + " does not answer status; upgrade it");
              }
              return status;
            });
  }

  /** Closes the connection this store made; a channel given to {@link #over} stays open. */
  @Override
  public void close() {
    connection.close();
    if (network != null) {
      network.close(CLOSE_GRACE);
    }
  }

  /** How to reach a kv-server. */
  public static final class Builder {
    private HostPort server;
    private Duration timeout = Duration.ofSeconds(5);
    private ClientTls tls;
    private String token;
    private Executor executor;
    private MeterRegistry metrics;

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
     * Completes the futures of calls on {@code executor}, and so runs there the stages that callers
     * add to them without an executor of their own ({@code thenApply}, {@code whenComplete}, ...).
     * Give one when such stages may block, for example to wait for another call or a lock.
     *
     * <p>Default: none. A future completes on the network thread that received the answer, with no
     * hand-over to another thread, which costs the least: its stages must then not block, or every
     * other call of the store waits for them. Watch listeners run on threads of the store's own
     * either way.
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Where to measure the store's operations (see {@link AbstractKvStore}); null, the default, for
     * nowhere.
     */
    public Builder metrics(MeterRegistry metrics) {
      this.metrics = metrics;
      return this;
    }

    /**
     * Opens the channel; the connection is made on the first call, and again whenever it is lost.
     *
     * @throws IllegalArgumentException when a TLS file cannot be read or used
     */
    public RemoteStore build() {
      Objects.requireNonNull(server, "server");
      ExecutorService threads = ChannelThreads.pool("kv-remote");
      NetworkThread network = new NetworkThread("kv-remote-network");
      ManagedChannel channel =
          ChannelThreads.of(
                  network.serve(
                      NettyChannelBuilder.forAddress(
                          server.host(),
                          server.port(),
                          tls == null ? InsecureChannelCredentials.create() : tls.credentials())),
                  threads,
                  executor)
              // Notices a server that vanished under a watch; kv-server accepts pings every 10s.
              .keepAliveTime(30, TimeUnit.SECONDS)
              .keepAliveTimeout(10, TimeUnit.SECONDS)
              // A page is at most 4 MiB of keys and values (ListQuery.MAX_BYTES) and their
              // framing, beyond gRPC's default of 4 MiB; larger only for one entry alone, as
              // large as the server's --max-value-size lets it be.
              .maxInboundMessageSize(MAX_RESPONSE_BYTES)
              .build();
      StoreConnection connection =
          StoreConnection.owning(channel, peer(server.toString()), timeout, CLOSE_GRACE, null);
      return new RemoteStore(
          channel,
          connection,
          token == null ? null : new BearerToken(token),
          threads,
          network,
          metrics);
    }
  }
}
