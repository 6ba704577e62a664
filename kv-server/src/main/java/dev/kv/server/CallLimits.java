package dev.kv.server;

import dev.kv.core.config.Durations;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.netty.util.Timeout;
import io.netty.util.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Bounds the calls in progress and the watches open at once, refusing more with {@code
 * RESOURCE_EXHAUSTED} rather than queueing them without end, and ends a call after the default
 * deadline when it set none, or after the longest duration when its own deadline is later, with
 * {@code DEADLINE_EXCEEDED}. (The store's work for it goes on to its own end; only the answer is
 * given up.) Watches, which are server-streaming calls, have neither.
 *
 * <p>Calls count against their connection's {@link FairShares share}, and the services that need no
 * token against a small budget of their own, so that callers without a token cannot take the slots
 * of those with one.
 */
final class CallLimits implements ServerInterceptor {

  private final Limits limits;
  private final Timer timer;
  private final FairShares shares;
  private final Function<FairShares.Holdings, Share> callShare;

  /** Null when watches count as calls. */
  private final Share watches;

  private CallLimits(
      Limits limits,
      Timer timer,
      FairShares shares,
      Function<FairShares.Holdings, Share> callShare,
      Share watches) {
    this.limits = limits;
    this.timer = timer;
    this.shares = shares;
    this.callShare = callShare;
    this.watches = watches;
  }

  /**
   * For the kv.KV service: calls against {@link Limits#maxCalls()}, watches against {@link
   * Limits#maxWatches()}.
   *
   * @param timer for the deadlines: a wheel timer, whose timeouts cost little to set and to cancel
   *     and are let go once cancelled, as one is set for every call without a deadline (a scheduled
   *     executor keeps each cancelled task until it would have run: millions of them at 100,000
   *     calls a second)
   */
  static CallLimits forService(Limits limits, Timer timer, FairShares shares) {
    return new CallLimits(
        limits,
        timer,
        shares,
        FairShares.Holdings::calls,
        Share.ofServer(limits.maxWatches(), Long::toString, "open watches", ""));
  }

  /**
   * For health checks and reflection, which answer without a token: their calls and watches
   * together against {@link Limits#maxUnauthenticatedCalls()}.
   */
  static CallLimits forUnauthenticated(Limits limits, Timer timer, FairShares shares) {
    return new CallLimits(limits, timer, shares, FairShares.Holdings::unauthenticatedCalls, null);
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    boolean watch = call.getMethodDescriptor().getType() == MethodType.SERVER_STREAMING;
    Share share =
        watch && watches != null ? watches : callShare.apply(shares.of(call.getAttributes()));
    String refusal = share.take(1);
    if (refusal != null) {
      call.close(Status.RESOURCE_EXHAUSTED.withDescription(refusal), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    AtomicBoolean released = new AtomicBoolean();
    AtomicReference<Timeout> deadline = new AtomicReference<>();
    Runnable release =
        () -> {
          if (released.compareAndSet(false, true)) {
            share.giveBack(1);
            Timeout pending = deadline.get();
            if (pending != null) {
              pending.cancel();
            }
          }
        };
    // The slot is free once the server ends the call: what the client has yet to read of it is
    // bounded (see WatchStream), and must not hold the slot while the client does not read.
    ClosingOnce<ReqT, RespT> once = new ClosingOnce<>(call, release);
    Ending ending = watch ? null : ending(Context.current().getDeadline());
    if (ending != null) {
      deadline.set(
          timer.newTimeout(
              expired -> once.closeIfOpen(ending.status()),
              ending.after().toNanos(),
              TimeUnit.NANOSECONDS));
      if (released.get()) {
        deadline.get().cancel();
      }
    }
    ServerCall.Listener<ReqT> listener = next.startCall(once, headers);
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onComplete() {
        release.run();
        super.onComplete();
      }

      @Override
      public void onCancel() {
        release.run();
        super.onCancel();
      }
    };
  }

  /** When the server ends a call that is still running, and with what. */
  private record Ending(Duration after, Status status) {}

  /** The server's ending of a call with this deadline of its own, or null if that comes first. */
  private Ending ending(Deadline own) {
    if (own == null) {
      return new Ending(
          limits.defaultDeadline(),
          Status.DEADLINE_EXCEEDED.withDescription(
              "the call took longer than kv-server's default deadline of "
                  + Durations.format(limits.defaultDeadline())
                  + " (the client set none)"));
    }
    if (own.timeRemaining(TimeUnit.NANOSECONDS) > limits.maxCallDuration().toNanos()) {
      return new Ending(
          limits.maxCallDuration(),
          Status.DEADLINE_EXCEEDED.withDescription(
              "the call took longer than kv-server lets any call run, "
                  + Durations.format(limits.maxCallDuration())
                  + ", although the client's deadline was later"));
    }
    return null;
  }

  /**
   * A call that the service and the deadline may both try to end: only the first one does, and
   * frees the call's slot.
   */
  private static final class ClosingOnce<ReqT, RespT> extends CloseOnceCall<ReqT, RespT> {
    private final Runnable onClose;

    ClosingOnce(ServerCall<ReqT, RespT> call, Runnable onClose) {
      super(call);
      this.onClose = onClose;
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      if (!isClosed()) {
        super.close(status, trailers);
        onClose.run();
      }
    }
  }
}
