package dev.kv.server;

import dev.kv.api.KVGrpc;
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
import io.netty.util.TimerTask;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Bounds the calls in progress and the watches open at once, refusing more with {@code
 * RESOURCE_EXHAUSTED} rather than queueing them without end, and ends a call after the default
 * deadline when it set none, or after the longest duration when its own deadline is later, with
 * {@code DEADLINE_EXCEEDED}. (The store's work for it goes on to its own end; only the answer is
 * given up.) Watches and snapshots, which are server-streaming calls, have neither; snapshots, each
 * reading the whole store, are held to {@link #MAX_SNAPSHOTS} at once.
 *
 * <p>Calls count against their connection's {@link FairShares share}, and the services that need no
 * token against a small budget of their own, so that callers without a token cannot take the slots
 * of those with one.
 */
final class CallLimits implements ServerInterceptor {

  /** Snapshots streaming at once: one, and one more for the operator who must take one now. */
  static final int MAX_SNAPSHOTS = 2;

  private final Limits limits;
  private final Timer timer;
  private final FairShares shares;
  private final Function<FairShares.Holdings, Share> callShare;

  /** Null when watches count as calls. */
  private final Share watches;

  /** Null when snapshots count as watches: the services that serve none. */
  private final Share snapshots;

  private final ServerMetrics metrics;
  private final ServerMetrics.Limit callLimit;

  private final Status pastDefaultDeadline;
  private final Status pastMaxCallDuration;

  private CallLimits(
      Limits limits,
      Timer timer,
      FairShares shares,
      Function<FairShares.Holdings, Share> callShare,
      Share watches,
      Share snapshots,
      ServerMetrics metrics,
      ServerMetrics.Limit callLimit) {
    this.limits = limits;
    this.metrics = metrics;
    this.callLimit = callLimit;
    this.timer = timer;
    this.shares = shares;
    this.callShare = callShare;
    this.watches = watches;
    this.snapshots = snapshots;
    // Made once: the limits do not change, and a status is made for every call.
    this.pastDefaultDeadline =
        Status.DEADLINE_EXCEEDED.withDescription(
            "the call took longer than kv-server's default deadline of "
                + Durations.format(limits.defaultDeadline())
                + " (the client set none)");
    this.pastMaxCallDuration =
        Status.DEADLINE_EXCEEDED.withDescription(
            "the call took longer than kv-server lets any call run, "
                + Durations.format(limits.maxCallDuration())
                + ", although the client's deadline was later");
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
  static CallLimits forService(
      Limits limits, Timer timer, FairShares shares, ServerMetrics metrics) {
    Share watches = Share.ofServer(limits.maxWatches(), Long::toString, "open watches", "");
    // The watches that hold a slot: those the server has not ended, read by their client or not.
    metrics.watchesOpen(watches, Share::held);
    return new CallLimits(
        limits,
        timer,
        shares,
        FairShares.Holdings::calls,
        watches,
        Share.ofServer(
            MAX_SNAPSHOTS, Long::toString, "snapshots at once", "; try again once one is done"),
        metrics,
        ServerMetrics.Limit.CALLS);
  }

  /**
   * For health checks and reflection, which answer without a token: their calls and watches
   * together against {@link Limits#maxUnauthenticatedCalls()}.
   */
  static CallLimits forUnauthenticated(
      Limits limits, Timer timer, FairShares shares, ServerMetrics metrics) {
    return new CallLimits(
        limits,
        timer,
        shares,
        FairShares.Holdings::unauthenticatedCalls,
        null,
        null,
        metrics,
        ServerMetrics.Limit.UNAUTHENTICATED_CALLS);
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    boolean watch = call.getMethodDescriptor().getType() == MethodType.SERVER_STREAMING;
    boolean asSnapshot =
        snapshots != null
            && call.getMethodDescriptor()
                .getFullMethodName()
                .equals(KVGrpc.getSnapshotMethod().getFullMethodName());
    boolean asWatch = watch && watches != null && !asSnapshot;
    Share share =
        asSnapshot
            ? snapshots
            : asWatch ? watches : callShare.apply(shares.of(call.getAttributes()));
    String refusal = share.take(1);
    if (refusal != null) {
      metrics.refused(
          asSnapshot
              ? ServerMetrics.Limit.SNAPSHOTS
              : asWatch ? ServerMetrics.Limit.WATCHES : callLimit);
      call.close(Status.RESOURCE_EXHAUSTED.withDescription(refusal), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    LimitedCall<ReqT, RespT> limited = new LimitedCall<>(call, share);
    if (!watch) {
      endInTime(limited, Context.current().getDeadline());
    }
    ServerCall.Listener<ReqT> listener = next.startCall(limited, headers);
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onComplete() {
        limited.release();
        super.onComplete();
      }

      @Override
      public void onCancel() {
        limited.release();
        super.onCancel();
      }
    };
  }

  /**
   * Has the server end {@code call} after the default deadline if its own {@code deadline} is null,
   * or after the longest duration if its own is later.
   */
  private void endInTime(LimitedCall<?, ?> call, Deadline deadline) {
    if (deadline == null) {
      call.endAfter(timer, limits.defaultDeadline(), pastDefaultDeadline);
    } else if (deadline.timeRemaining(TimeUnit.NANOSECONDS) > limits.maxCallDuration().toNanos()) {
      call.endAfter(timer, limits.maxCallDuration(), pastMaxCallDuration);
    }
  }

  /**
   * A call that the service and the deadline may both try to end: only the first one does. Its slot
   * is free once the server ends it: what the client has yet to read of it is bounded (see {@link
   * WatchStream}), and must not hold the slot while the client does not read.
   */
  private static final class LimitedCall<ReqT, RespT> extends CloseOnceCall<ReqT, RespT>
      implements TimerTask {
    private final Share share;
    private boolean released;
    private Timeout deadline;
    private Status ending;

    LimitedCall(ServerCall<ReqT, RespT> call, Share share) {
      super(call);
      this.share = share;
    }

    synchronized void endAfter(Timer timer, Duration after, Status status) {
      if (!released) {
        ending = status;
        deadline = timer.newTimeout(this, after.toNanos(), TimeUnit.NANOSECONDS);
      }
    }

    @Override
    public synchronized void run(Timeout expired) {
      closeIfOpen(ending);
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      if (!isClosed()) {
        super.close(status, trailers);
        release();
      }
    }

    /** Gives back the call's slot, once, and lets go of its deadline. */
    synchronized void release() {
      if (!released) {
        released = true;
        share.giveBack(1);
        if (deadline != null) {
          deadline.cancel();
        }
      }
    }
  }
}
