package dev.kv.server;

import dev.kv.api.KVGrpc;
import dev.kv.core.KvStore;
import dev.kv.core.config.Durations;
import dev.kv.core.config.HostPort;
import dev.kv.core.local.Threads;
import io.grpc.BindableService;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.HashedWheelTimer;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The kv gRPC server: the {@code kv.KV} service over a store, with standard health checking ({@code
 * grpc.health.v1.Health}, for {@code ""} and {@code kv.KV}) and server reflection ({@code v1} and
 * {@code v1alpha}), so that load balancers and tools work without the .proto files.
 *
 * <p>Health follows the store: the server checks it every second, and answers {@code SERVING} only
 * while the store answers, {@code NOT_SERVING} otherwise, without a restart either way.
 */
public final class KvServer {

  /** The service name that health checks and reflection know the API by. */
  public static final String SERVICE_NAME = KVGrpc.SERVICE_NAME;

  static final Duration HEALTH_CHECK_INTERVAL = Duration.ofSeconds(1);

  /** The default deadlines of every server in this process: one thread, started on first use. */
  private static final HashedWheelTimer DEADLINES =
      new HashedWheelTimer(Threads.daemon("kv-server-deadlines"), 10, TimeUnit.MILLISECONDS);

  /** How often the TLS and token files are checked for changes. */
  static final Duration RELOAD_INTERVAL = Duration.ofSeconds(10);

  private static final Runnable NOTHING = () -> {};

  private final Server server;
  private final KvService service;
  private final Duration healthCheckInterval;
  private final StoreHealth health;
  private final ScheduledExecutorService timer;
  private final Runnable reload;
  private final Duration reloadInterval;
  private final Runnable releaseTransport;

  /** A server built on {@code builder}, such as an in-process one in tests, with default limits. */
  public KvServer(ServerBuilder<?> builder, KvStore store) {
    this(builder, store, HEALTH_CHECK_INTERVAL);
  }

  KvServer(ServerBuilder<?> builder, KvStore store, Duration healthCheckInterval) {
    this(
        builder,
        store,
        healthCheckInterval,
        Limits.DEFAULTS,
        null,
        null,
        RELOAD_INTERVAL,
        NOTHING,
        ServerMetrics.NONE);
  }

  private KvServer(
      ServerBuilder<?> builder,
      KvStore store,
      Duration healthCheckInterval,
      Limits limits,
      BearerTokens tokens,
      ServerTls tls,
      Duration reloadInterval,
      Runnable releaseTransport,
      ServerMetrics metrics) {
    this.health = new StoreHealth(store);
    this.releaseTransport = releaseTransport;
    this.healthCheckInterval = healthCheckInterval;
    this.reloadInterval = reloadInterval;
    this.timer = Executors.newSingleThreadScheduledExecutor(Threads.daemon("kv-server-timer"));
    this.service = new KvService(store, limits, health::serving, metrics);
    ServerServiceDefinition kv = CallFailureInterceptor.guard(service);
    FairShares shares = new FairShares(limits);
    CallLimits callLimits = CallLimits.forService(limits, DEADLINES, shares, metrics);
    // The last interceptor runs first: a call without a valid token takes no slot.
    kv =
        tokens == null
            ? ServerInterceptors.intercept(kv, callLimits)
            : ServerInterceptors.intercept(kv, callLimits, tokens);
    CallLimits unauthenticated = CallLimits.forUnauthenticated(limits, DEADLINES, shares, metrics);
    // Open to every client, as load balancers and tools expect, within a budget of their own.
    List<ServerServiceDefinition> services =
        List.of(
            kv,
            open(health.service(), unauthenticated),
            open(ProtoReflectionServiceV1.newInstance(), unauthenticated),
            open(reflectionV1Alpha(), unauthenticated));
    if (metrics.registry() != null) {
      builder.addStreamTracerFactory(new CallMetrics(metrics.registry(), services));
    }
    CutOffRequests cutOff = new CutOffRequests();
    builder
        .addTransportFilter(shares)
        .addStreamTracerFactory(new BytesInProgress(shares, metrics))
        .addStreamTracerFactory(cutOff)
        .intercept(cutOff);
    services.forEach(builder::addService);
    this.server = builder.build();
    this.reload =
        () -> {
          if (tls != null) {
            tls.reloadIfChanged();
          }
          if (tokens != null) {
            tokens.reloadIfChanged();
          }
        };
  }

  /** A service that answers every client, within the budget of such calls. */
  private static ServerServiceDefinition open(BindableService service, CallLimits callLimits) {
    return ServerInterceptors.intercept(CallFailureInterceptor.guard(service), callLimits);
  }

  /**
   * Reflection as {@code grpc.reflection.v1alpha}, the only version that older grpcurl, grpcui and
   * Postman speak. grpc-java deprecates it for v1 but still ships it; both are served.
   */
  @SuppressWarnings("deprecation")
  private static BindableService reflectionV1Alpha() {
    return ProtoReflectionService.newInstance();
  }

  /** A server that will listen on {@code address} over plaintext HTTP/2, with default limits. */
  public static KvServer listeningOn(HostPort address, KvStore store) {
    return builder(address, store).build();
  }

  /** A server that will listen on {@code address}, configured by the builder. */
  public static Builder builder(HostPort address, KvStore store) {
    return new Builder(address, store);
  }

  /**
   * Starts serving, and checking the store: health checks answer {@code SERVING} once it answers.
   *
   * @throws IOException when the address cannot be bound, for example because it is in use
   */
  public KvServer start() throws IOException {
    try {
      server.start();
    } catch (IOException e) {
      releaseTransport.run();
      throw e;
    }
    health.check();
    timer.scheduleWithFixedDelay(
        health::check,
        healthCheckInterval.toNanos(),
        healthCheckInterval.toNanos(),
        TimeUnit.NANOSECONDS);
    timer.scheduleWithFixedDelay(
        reload, reloadInterval.toNanos(), reloadInterval.toNanos(), TimeUnit.NANOSECONDS);
    return this;
  }

  /** The port the server listens on, once started; useful after asking for port 0. */
  public int port() {
    return server.getPort();
  }

  /** The address the server listens on, once started, in the form clients connect to. */
  public HostPort address() {
    for (SocketAddress address : server.getListenSockets()) {
      if (address instanceof InetSocketAddress inet) {
        return new HostPort(inet.getAddress().getHostAddress(), inet.getPort());
      }
    }
    throw new IllegalStateException("the server listens on no network address");
  }

  /**
   * Stops gracefully: health checks answer {@code NOT_SERVING} first so that load balancers move
   * away, new calls are refused, open watches end with {@code UNAVAILABLE} (their clients resume
   * them elsewhere), and other calls in flight get up to {@code grace} to finish before they are
   * cancelled. Returns once the server has stopped.
   */
  public void stop(Duration grace) throws InterruptedException {
    stop(Duration.ZERO, grace);
  }

  /**
   * Stops gracefully as {@link #stop(Duration)} does, but keeps serving for {@code drain} after
   * health checks turn {@code NOT_SERVING}, so that load balancers that poll them see it before new
   * calls are refused.
   */
  public void stop(Duration drain, Duration grace) throws InterruptedException {
    health.stopFollowing();
    timer.shutdownNow();
    if (!server.isShutdown()) {
      health.stopServing();
      Thread.sleep(drain.toMillis());
      server.shutdown();
      // Watches never finish by themselves: ended now, they resume on another server.
      service.endWatches();
    }
    if (!server.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS)) {
      server.shutdownNow();
      server.awaitTermination();
    }
    releaseTransport.run();
  }

  /**
   * Whether the server is ready for calls: its store answers and it is not stopping, as its health
   * checks say ({@code SERVING}).
   */
  public boolean ready() {
    return health.serving();
  }

  /** Cancels every call at once: for an operator who will not wait for the grace period. */
  public void stopNow() {
    server.shutdownNow();
  }

  /** Waits until the server has stopped. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /** How a server listens and what it allows. */
  public static final class Builder {
    private final HostPort address;
    private final KvStore store;
    private boolean onNetworkThreads = true;
    private ServerTls tls;
    private BearerTokens tokens;
    private Limits limits = Limits.DEFAULTS;
    private Duration reloadInterval = RELOAD_INTERVAL;
    private boolean accessLog;
    private MeterRegistry metrics;

    private Builder(HostPort address, KvStore store) {
      this.address = address;
      this.store = store;
    }

    /**
     * Whether calls run on the transport's threads, with no hop to a pool (measured: 4 times the
     * calls per second on the memory store). Every store of kv-core allows it, since none waits in
     * its calls ({@link KvStore}). Default: true; false for a store of one's own that waits, which
     * on the transport's threads would hold up every call.
     */
    public Builder onNetworkThreads(boolean onNetworkThreads) {
      this.onNetworkThreads = onNetworkThreads;
      return this;
    }

    /** Serves TLS only, and mutual TLS if {@code tls} has a client CA. Default: plaintext. */
    public Builder tls(ServerTls tls) {
      this.tls = tls;
      return this;
    }

    /** Serves kv.KV calls only with one of {@code tokens}. Default: to every client. */
    public Builder bearerTokens(BearerTokens tokens) {
      this.tokens = tokens;
      return this;
    }

    public Builder limits(Limits limits) {
      this.limits = limits;
      return this;
    }

    /** How often the TLS and token files are checked for changes. Default: 10 seconds. */
    public Builder reloadInterval(Duration reloadInterval) {
      this.reloadInterval = Durations.requireTimeout(reloadInterval);
      return this;
    }

    /** Logs a line for each call ({@link AccessLog}). Default: none. */
    public Builder accessLog(boolean accessLog) {
      this.accessLog = accessLog;
      return this;
    }

    /**
     * Measures the calls, the limits' refusals, the watches, the JVM and the process into {@code
     * metrics}. Default: none, at no cost.
     */
    public Builder metrics(MeterRegistry metrics) {
      this.metrics = metrics;
      return this;
    }

    public KvServer build() {
      NettyServerBuilder builder =
          NettyServerBuilder.forAddress(
                  address.toSocketAddress(),
                  tls == null ? InsecureServerCredentials.create() : tls.credentials())
              .maxInboundMessageSize(limits.maxMessageBytes())
              .maxConcurrentCallsPerConnection(limits.maxStreamsPerConnection())
              .permitKeepAliveTime(limits.keepAliveMinTime().toNanos(), TimeUnit.NANOSECONDS)
              .permitKeepAliveWithoutCalls(true)
              // Finds clients that vanished without closing their connections, watches included.
              .keepAliveTime(1, TimeUnit.MINUTES)
              .keepAliveTimeout(20, TimeUnit.SECONDS)
              // A client that opens a connection and never completes the TLS handshake.
              .handshakeTimeout(10, TimeUnit.SECONDS);
      if (!limits.maxConnectionIdle().isZero()) {
        builder.maxConnectionIdle(limits.maxConnectionIdle().toNanos(), TimeUnit.NANOSECONDS);
      }
      if (!limits.maxConnectionAge().isZero()) {
        builder.maxConnectionAge(limits.maxConnectionAge().toNanos(), TimeUnit.NANOSECONDS);
      }
      if (onNetworkThreads) {
        builder.directExecutor();
      } else {
        // Not gRPC's default pool, which starts a thread for each call that finds the others busy.
        builder.executor(Threads.pool("kv-server-calls", Math.max(8, 4 * Threads.processors())));
      }
      // The listening socket keeps to the limit on connections; gRPC then needs its threads given.
      ServerMetrics serverMetrics = ServerMetrics.of(metrics);
      ConnectionLimits connections = new ConnectionLimits(limits, DEADLINES, serverMetrics);
      EventLoopGroup accepting = eventLoops(1, "kv-server-accept");
      EventLoopGroup network = eventLoops(0, "kv-server-network");
      builder
          .channelFactory(connections.channelFactory())
          .bossEventLoopGroup(accepting)
          .workerEventLoopGroup(network)
          .intercept(connections);
      if (accessLog) {
        builder.intercept(new AccessLog());
      }
      return new KvServer(
          builder,
          store,
          HEALTH_CHECK_INTERVAL,
          limits,
          tokens,
          tls,
          reloadInterval,
          () -> {
            accepting.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            network.shutdownGracefully(0, 0, TimeUnit.SECONDS);
          },
          serverMetrics);
    }

    /** {@code threads} event loops (0: Netty's default, as gRPC's own), on daemon threads. */
    private static EventLoopGroup eventLoops(int threads, String name) {
      return new MultiThreadIoEventLoopGroup(
          threads, new DefaultThreadFactory(name, true), NioIoHandler.newFactory());
    }
  }
}
