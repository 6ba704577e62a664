package dev.kv.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.BindableService;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Answers a call that fails before it reaches a service method with a status that says why. Without
 * it, a request whose bytes do not parse, or that finds no memory, reaches the client as {@code
 * UNKNOWN} and the server logs a stack trace for every such request.
 */
final class CallFailureInterceptor implements ServerInterceptor {

  private static final Logger logger = Logger.getLogger(CallFailureInterceptor.class.getName());

  /**
   * {@code service} with its requests parsed inside this interceptor, where a parse failure can be
   * answered, rather than in the transport, where it becomes {@code UNKNOWN}.
   */
  static ServerServiceDefinition guard(BindableService service) {
    return ServerInterceptors.intercept(
        ServerInterceptors.useInputStreamMessages(service.bindService()),
        new CallFailureInterceptor());
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
      private boolean closed;

      @Override
      public void onMessage(ReqT message) {
        if (!closed) {
          try {
            super.onMessage(message);
          } catch (RuntimeException | OutOfMemoryError e) {
            closed = true;
            close(call, e);
          }
        }
      }

      @Override
      public void onHalfClose() {
        if (!closed) {
          try {
            super.onHalfClose();
          } catch (RuntimeException | OutOfMemoryError e) {
            closed = true;
            close(call, e);
          }
        }
      }
    };
  }

  private static void close(ServerCall<?, ?> call, Throwable error) {
    Status status = Status.fromThrowable(error);
    if (error instanceof OutOfMemoryError) {
      // The bytes in progress are bounded to keep requests from this; should memory run short
      // still, the call that found none is refused as a limit refuses it, never UNKNOWN.
      logger.warning("a call found no memory, and is refused: " + error);
      status =
          Status.RESOURCE_EXHAUSTED.withDescription(
              "kv-server is short of memory for this request; retry later");
    } else if (hasCause(error, InvalidProtocolBufferException.class)) {
      status =
          Status.INVALID_ARGUMENT.withDescription(
              "malformed request: not a valid "
                  + call.getMethodDescriptor().getFullMethodName()
                  + " request message");
    } else if (status.getCode() == Status.Code.UNKNOWN) {
      logger.log(Level.WARNING, "call failed", error);
      status = Status.INTERNAL.withDescription("internal error");
    }
    call.close(status, new Metadata());
  }

  private static boolean hasCause(Throwable error, Class<? extends Throwable> type) {
    for (Throwable cause = error; cause != null; cause = cause.getCause()) {
      if (type.isInstance(cause)) {
        return true;
      }
    }
    return false;
  }
}
