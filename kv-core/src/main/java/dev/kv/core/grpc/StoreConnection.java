package dev.kv.core.grpc;

import dev.kv.core.KvException;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What every store that is a gRPC client needs around its calls: the channel, the deadline each
 * call carries, failures turned into {@link KvException}s that name the peer, prompt reconnects to
 * a peer that was unavailable, the running watches, and close. A store built on it says only what
 * each operation sends and how its answer reads.
 */
public final class StoreConnection implements AutoCloseable {

  /** One call of a stub, such as {@code KVGrpc.KVStub::get}. */
  @FunctionalInterface
  public interface Rpc<S, ReqT, RespT> {
    void send(S stub, ReqT request, StreamObserver<RespT> answer);
  }

  /** What a kind of server means by failures that gRPC's status codes alone do not tell. */
  public interface Dialect {
    /** The error for a failure this server words in its own way; null to map it by its code. */
    default KvException explain(StatusRuntimeException error, String peer) {
      return null;
    }

    /**
     * Repairs what {@code error} says went wrong, when it can (such as an expired token): true when
     * it did, the failed call was not applied, and it may be sent once more.
     */
    default boolean repair(StatusRuntimeException error) {
      return false;
    }
  }

  private static final Dialect PLAIN_GRPC = new Dialect() {};

  private final ManagedChannel owned;
  private final String peer;
  private final Duration timeout;
  private final Duration closeGrace;
  private final Dialect dialect;
  private final Reconnects reconnects;
  private final WatchRegistry watches;

  private StoreConnection(
      ManagedChannel owned, String peer, Duration timeout, Duration closeGrace, Dialect dialect) {
    this.owned = owned;
    this.peer = Objects.requireNonNull(peer, "peer");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.closeGrace = closeGrace;
    this.dialect = dialect != null ? dialect : PLAIN_GRPC;
    this.reconnects = owned == null ? null : new Reconnects(owned);
    this.watches = new WatchRegistry(peer);
  }

  /**
   * A connection that owns {@code channel}: {@link #close} shuts it down, and waits up to {@code
   * closeGrace} for the calls under way.
   *
   * @param peer what is called, as messages name it, such as {@code etcd at http://127.0.0.1:2379}
   * @param timeout the deadline of each call, from when it is sent
   * @param dialect what the server means beyond its status codes; null when they say it all
   */
  public static StoreConnection owning(
      ManagedChannel channel, String peer, Duration timeout, Duration closeGrace, Dialect dialect) {
    return new StoreConnection(
        Objects.requireNonNull(channel, "channel"), peer, timeout, closeGrace, dialect);
  }

  /**
   * A connection over a channel that the caller made and will shut down; it cannot ask that channel
   * to reconnect early.
   */
  public static StoreConnection over(Channel channel, String peer, Duration timeout) {
    Objects.requireNonNull(channel, "channel");
    return new StoreConnection(null, peer, timeout, Duration.ZERO, null);
  }

  /** What is called, as messages name it. */
  public String peer() {
    return peer;
  }

  /**
   * Sends one call on {@code stub} with the connection's deadline. A request that cannot be built
   * (its supplier throws) fails the future without reaching the peer; every failure becomes a
   * {@link KvException} worded for a person.
   */
  public <S extends AbstractStub<S>, ReqT, RespT, T> CompletableFuture<T> call(
      S stub, Rpc<S, ReqT, RespT> rpc, Supplier<ReqT> request, Function<RespT, T> onResponse) {
    return call(stub, rpc, request, onResponse, null, null);
  }

  /**
   * As {@link #call(AbstractStub, Rpc, Supplier, Function)}, but a failure with status {@code
   * answeredBy} is an answer: the future completes with {@code answer}.
   */
  public <S extends AbstractStub<S>, ReqT, RespT, T> CompletableFuture<T> call(
      S stub,
      Rpc<S, ReqT, RespT> rpc,
      Supplier<ReqT> request,
      Function<RespT, T> onResponse,
      Status.Code answeredBy,
      T answer) {
    // The deadline is taken as each attempt is sent: a call sent again gets a whole one.
    return UnaryCallFuture.start(
        request,
        (built, observer) ->
            rpc.send(
                stub.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS), built, observer),
        onResponse,
        error -> {
          if (error.getStatus().getCode() == answeredBy) {
            return answer;
          }
          throw failure(error);
        },
        dialect::repair);
  }

  /**
   * The error a caller sees for a failed call, worded for a person. A peer found unavailable is
   * tried again soon, rather than after gRPC's growing backoff.
   */
  public KvException failure(StatusRuntimeException error) {
    if (error.getStatus().getCode() == Status.Code.UNAVAILABLE) {
      reconnectSoon();
    }
    KvException explained = dialect.explain(error, peer);
    return explained != null ? explained : GrpcErrors.callFailure(error, peer, timeout);
  }

  /** Starts {@code watch}, which {@link #close} ends; on a closed connection, ends it at once. */
  public <W extends ResumingWatch<?>> W watch(W watch) {
    return watches.start(watch);
  }

  void reconnectSoon() {
    if (reconnects != null) {
      reconnects.soon();
    }
  }

  boolean closed() {
    return watches.closed();
  }

  void forget(ResumingWatch<?> watch) {
    watches.forget(watch);
  }

  /**
   * Ends every watch with {@link KvException.Code#UNAVAILABLE}, then shuts down the channel if this
   * connection owns it: the calls under way get up to {@code closeGrace}, and are then cancelled.
   * Returns once the channel has terminated, its connections closed, or after twice {@code
   * closeGrace} at most.
   */
  @Override
  public void close() {
    watches.closeAll();
    if (owned == null) {
      return;
    }
    owned.shutdown();
    try {
      if (!owned.awaitTermination(closeGrace.toMillis(), TimeUnit.MILLISECONDS)) {
        // Cancelled calls end at once, but their connections close on the network thread: a
        // store that ends its network thread next must let them finish first.
        owned.shutdownNow().awaitTermination(closeGrace.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      owned.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
