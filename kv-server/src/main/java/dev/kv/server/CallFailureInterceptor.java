package dev.kv.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.BindableService;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Answers a call that fails before it reaches a service method with a status that says why. Without
 * it, a request whose bytes do not parse, or that finds no memory, reaches the client as {@code
 * UNKNOWN} and the server logs a stack trace for every such request.
 */
final class CallFailureInterceptor implements ServerInterceptor {

  private static final Logger logger = Logger.getLogger(CallFailureInterceptor.class.getName());

  /** Hands a request's bytes on as they are, for the listener of its call to parse. */
  private static final MethodDescriptor.Marshaller<InputStream> REQUEST_BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(InputStream request) {
          return request;
        }

        @Override
        public InputStream parse(InputStream request) {
          return request;
        }
      };

  /**
   * {@code service} with its requests parsed inside this interceptor, where a parse failure can be
   * answered, rather than in the transport, where it becomes {@code UNKNOWN}. Its responses keep
   * the service's own marshaller: the transport serialises each once, straight into its frames.
   */
  static ServerServiceDefinition guard(BindableService service) {
    ServerServiceDefinition bound = service.bindService();
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(bound.getServiceDescriptor().getName())
            .setSchemaDescriptor(bound.getServiceDescriptor().getSchemaDescriptor());
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> method : bound.getMethods()) {
      ServerMethodDefinition<?, ?> parsedHere = parsedByListener(method);
      descriptor.addMethod(parsedHere.getMethodDescriptor());
      methods.add(parsedHere);
    }
    ServerServiceDefinition.Builder guarded = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(guarded::addMethod);
    return ServerInterceptors.intercept(guarded.build(), new CallFailureInterceptor());
  }

  /**
   * {@code definition}, its requests taken as bytes and parsed as its call's listener gets them.
   */
  private static <ReqT, RespT> ServerMethodDefinition<InputStream, RespT> parsedByListener(
      ServerMethodDefinition<ReqT, RespT> definition) {
    MethodDescriptor<ReqT, RespT> method = definition.getMethodDescriptor();
    ServerCallHandler<ReqT, RespT> handler = definition.getServerCallHandler();
    return ServerMethodDefinition.create(
        method.toBuilder(REQUEST_BYTES, method.getResponseMarshaller()).build(),
        (ServerCall<InputStream, RespT> call, Metadata headers) -> {
          ServerCall.Listener<ReqT> listener = handler.startCall(asCallOf(method, call), headers);
          return new ServerCall.Listener<InputStream>() {
            @Override
            public void onMessage(InputStream request) {
              listener.onMessage(method.parseRequest(request));
            }

            @Override
            public void onHalfClose() {
              listener.onHalfClose();
            }

            @Override
            public void onCancel() {
              listener.onCancel();
            }

            @Override
            public void onComplete() {
              listener.onComplete();
            }

            @Override
            public void onReady() {
              listener.onReady();
            }
          };
        });
  }

  /** {@code call} as the service method sees it: a call of {@code method}. */
  @SuppressWarnings("unchecked") // A call's request type shows only in its method, given here.
  private static <ReqT, RespT> ServerCall<ReqT, RespT> asCallOf(
      MethodDescriptor<ReqT, RespT> method, ServerCall<InputStream, RespT> call) {
    return new SimpleForwardingServerCall<ReqT, RespT>(
        (ServerCall<ReqT, RespT>) (ServerCall<?, RespT>) call) {
      @Override
      public MethodDescriptor<ReqT, RespT> getMethodDescriptor() {
        return method;
      }
    };
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
