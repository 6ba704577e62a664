package dev.kv.server;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.Timeout;
import io.netty.util.Timer;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * Bounds the connections a server holds, and how long one may stay without a call, so that clients
 * that connect and never call cannot take the server's memory (kilobytes a connection, see {@link
 * Limits#DEFAULTS}) or its descriptors. gRPC has neither bound.
 *
 * <p>Beyond {@link Limits#maxConnections()}, a new connection is closed as soon as it is accepted,
 * before anything is read from it or set up for it. A connection that has made no call {@link
 * Limits#firstRequestTimeout()} after it was accepted, TLS handshake included, is closed then.
 *
 * <p>It takes part in two places: the listening socket ({@link #channelFactory()}), which admits or
 * closes each connection, and the calls, as a server interceptor that sees each connection's first
 * one (by the client's address, which the call's transport attributes give).
 */
final class ConnectionLimits implements ServerInterceptor {

  private static final Logger logger = Logger.getLogger(ConnectionLimits.class.getName());

  /** A flood refuses thousands a second: one warning at most this often says so. */
  private static final long WARNING_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final int maxConnections;
  private final long firstRequestTimeoutNanos;
  private final Timer timer;
  private final AtomicInteger open = new AtomicInteger();
  private final ServerMetrics metrics;

  /** The first-request deadlines of the connections that have made no call yet. */
  private final Map<SocketAddress, Timeout> awaitingFirstCall = new ConcurrentHashMap<>();

  // Only on the listening socket's thread.
  private boolean warned;
  private long lastWarning;
  private int refusedSinceWarning;

  /**
   * @param timer for the first-request deadlines: a wheel timer, whose timeouts cost little to set
   *     and to cancel
   */
  ConnectionLimits(Limits limits, Timer timer, ServerMetrics metrics) {
    this.metrics = metrics;
    this.maxConnections = limits.maxConnections();
    this.firstRequestTimeoutNanos = limits.firstRequestTimeout().toNanos();
    this.timer = timer;
  }

  /** Makes listening sockets that admit connections within these limits. */
  ChannelFactory<ServerChannel> channelFactory() {
    return () -> new LimitedServerSocketChannel(this);
  }

  /**
   * Whether {@code connection}, just accepted, may stay: if so, it is counted until it closes, and
   * closed if it makes no call in time.
   */
  private boolean admit(Channel connection) {
    SocketAddress client = connection.remoteAddress();
    if (client == null) {
      return false; // gone already
    }
    if (open.incrementAndGet() > maxConnections) {
      open.decrementAndGet();
      refused();
      return false;
    }
    // The timer takes new timeouts in at its next tick: after the deadline is in the map.
    Timeout deadline =
        timer.newTimeout(
            expired -> {
              if (awaitingFirstCall.remove(client, expired)) {
                closeNow(connection);
              }
            },
            firstRequestTimeoutNanos,
            TimeUnit.NANOSECONDS);
    awaitingFirstCall.put(client, deadline);
    connection
        .closeFuture()
        .addListener(
            closed -> {
              open.decrementAndGet();
              if (awaitingFirstCall.remove(client, deadline)) {
                deadline.cancel();
              }
            });
    return true;
  }

  /**
   * Closes the socket itself: gRPC's handler would close gracefully, and wait up to 10 seconds for
   * an answer to a ping that a client which never calls does not give.
   */
  private static void closeNow(Channel connection) {
    connection.eventLoop().execute(() -> connection.unsafe().close(connection.voidPromise()));
  }

  private void refused() {
    metrics.refused(ServerMetrics.Limit.CONNECTIONS);
    refusedSinceWarning++;
    long now = System.nanoTime();
    if (warned && now - lastWarning < WARNING_INTERVAL_NANOS) {
      return;
    }
    logger.warning(
        "kv-server holds its limit of "
            + maxConnections
            + " connections (--max-connections), and closes new ones at once: "
            + refusedSinceWarning
            + (warned
                ? " closed in the last " + TimeUnit.NANOSECONDS.toSeconds(now - lastWarning) + "s"
                : " so far"));
    warned = true;
    lastWarning = now;
    refusedSinceWarning = 0;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    // Mostly empty: every connection but the newest has made its first call.
    SocketAddress client =
        awaitingFirstCall.isEmpty()
            ? null
            : call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    if (client != null) {
      Timeout deadline = awaitingFirstCall.remove(client);
      if (deadline != null) {
        deadline.cancel();
      }
    }
    return next.startCall(call, headers);
  }

  /**
   * A listening socket that closes at once each connection that its limits do not admit, and gives
   * each one it admits its {@link FrameCopies}.
   */
  private static final class LimitedServerSocketChannel extends NioServerSocketChannel {
    private final ConnectionLimits limits;

    LimitedServerSocketChannel(ConnectionLimits limits) {
      this.limits = limits;
    }

    @Override
    protected int doReadMessages(List<Object> accepted) throws Exception {
      int count = super.doReadMessages(accepted);
      if (count > 0) {
        Channel connection = (Channel) accepted.get(accepted.size() - 1);
        if (!limits.admit(connection)) {
          accepted.remove(accepted.size() - 1);
          // Not registered anywhere yet: this only closes its socket.
          connection.unsafe().closeForcibly();
        } else {
          // Before anything gRPC adds: see FrameCopies.
          connection.pipeline().addFirst(new FrameCopies());
        }
      }
      // A refused connection counts as one read, so that accepting goes on to the next.
      return count;
    }
  }
}
