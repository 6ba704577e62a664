package dev.kv.server;

import dev.kv.core.config.Durations;
import io.grpc.Context;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.netty.util.Timeout;
import io.netty.util.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Bounds the calls in progress and the watches open at once, refusing more with {@code
 * RESOURCE_EXHAUSTED} rather than queueing them without end, and ends a call that set no deadline
 * after the default one, with {@code DEADLINE_EXCEEDED}. (The store's work for it goes on to its
 * own end; only the answer is given up.)
 */
final class CallLimits implements ServerInterceptor {

  private final Limits limits;
  private final Timer timer;
  private final AtomicInteger calls = new AtomicInteger();
  private final AtomicInteger watches = new AtomicInteger();

  /**
   * @param timer for the default deadline: a wheel timer, whose timeouts cost little to set and to
   *     cancel and are let go once cancelled, as one is set for every call without a deadline (a
   *     scheduled executor keeps each cancelled task until it would have run: millions of them at
   *     100,000 calls a second)
   */
  CallLimits(Limits limits, Timer timer) {
    this.limits = limits;
    this.timer = timer;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    boolean unary = call.getMethodDescriptor().getType() == MethodType.UNARY;
    AtomicInteger open = unary ? calls : watches;
    int limit = unary ? limits.maxCalls() : limits.maxWatches();
    if (open.incrementAndGet() > limit) {
      open.decrementAndGet();
      call.close(
          Status.RESOURCE_EXHAUSTED.withDescription(
              unary
                  ? "kv-server is at its limit of " + limit + " calls in progress; retry later"
                  : "kv-server is at its limit of " + limit + " open watches"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    AtomicBoolean released = new AtomicBoolean();
    AtomicReference<Timeout> deadline = new AtomicReference<>();
    Runnable release =
        () -> {
          if (released.compareAndSet(false, true)) {
            open.decrementAndGet();
            Timeout pending = deadline.get();
            if (pending != null) {
              pending.cancel();
            }
          }
        };
    // The slot is free once the server ends the call: what the client has yet to read of it is
    // bounded (see WatchStream), and must not hold the slot while the client does not read.
    ClosingOnce<ReqT, RespT> once = new ClosingOnce<>(call, release);
    if (unary && Context.current().getDeadline() == null) {
      deadline.set(
          timer.newTimeout(
              expired ->
                  once.closeIfOpen(
                      Status.DEADLINE_EXCEEDED.withDescription(
                          "the call took longer than kv-server's default deadline of "
                              + Durations.format(limits.defaultDeadline())
                              + " (the client set none)")),
              limits.defaultDeadline().toNanos(),
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
