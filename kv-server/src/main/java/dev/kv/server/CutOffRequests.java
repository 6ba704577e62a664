package dev.kv.server;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;

/**
 * Answers a request whose stream ends in the middle of a message with {@code INVALID_ARGUMENT}, as
 * any other malformed request is answered, rather than with the {@code INTERNAL} that grpc-java's
 * transport gives it ("Encountered end-of-stream mid-frame", from {@code
 * AbstractServerStream.TransportState.deframerClosed}).
 *
 * <p>The transport ends such a call itself, with no interceptor in the way. But it tells the
 * stream's tracers first, on its own thread, before it sends its status: this tracer closes the
 * call then, and its status goes out first. (The transport's reset that follows finds the stream
 * closed.) The tracer finds the call through the call's context, where it puts itself; this
 * interceptor, which runs before all others, hands it the call. Both run for every call: install
 * this as the server's stream tracer factory and as its first interceptor.
 */
final class CutOffRequests extends ServerStreamTracer.Factory implements ServerInterceptor {

  private static final Context.Key<Tracer> TRACER = Context.key("kv-cut-off-requests");

  /** How grpc-java's transport describes a stream that ended in the middle of a message. */
  private static final String MID_MESSAGE = "Encountered end-of-stream mid-frame";

  @Override
  public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
    return new Tracer();
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Tracer tracer = TRACER.get();
    if (tracer == null) {
      // A transport without tracers, such as a test's in-process one.
      return next.startCall(call, headers);
    }
    // The transport reads the request only once the call asks for it, after this: the tracer
    // always has the call by then.
    CloseOnceCall<ReqT, RespT> once = new CloseOnceCall<>(call);
    tracer.call = once;
    return next.startCall(once, headers);
  }

  private static final class Tracer extends ServerStreamTracer {
    private volatile CloseOnceCall<?, ?> call;

    @Override
    public Context filterContext(Context context) {
      return context.withValue(TRACER, this);
    }

    @Override
    public void streamClosed(Status status) {
      CloseOnceCall<?, ?> started = call;
      if (started != null
          && status.getCode() == Status.Code.INTERNAL
          && MID_MESSAGE.equals(status.getDescription())) {
        started.closeIfOpen(
            Status.INVALID_ARGUMENT.withDescription(
                "malformed request: it ended in the middle of a "
                    + started.getMethodDescriptor().getFullMethodName()
                    + " request message"));
      }
    }
  }
}
