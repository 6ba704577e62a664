package dev.kv.server;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per call, once it ends: its method, status, duration and the client's address. Never its
 * messages or metadata, which carry values and tokens. Installed only with {@code --access-log}, so
 * that calls pay nothing for it otherwise.
 */
final class AccessLog implements ServerInterceptor {

  private static final Logger logger = LoggerFactory.getLogger(AccessLog.class);

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    Entry entry = new Entry(call);
    ServerCall<Q, A> logged =
        new SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            entry.end(status);
            super.close(status, trailers);
          }
        };
    return new SimpleForwardingServerCallListener<>(next.startCall(logged, headers)) {
      @Override
      public void onCancel() {
        entry.end(Status.CANCELLED);
        super.onCancel();
      }
    };
  }

  /** A call's line, written once: a call closed by the server is not then logged as cancelled. */
  private static final class Entry {
    private final long start = System.nanoTime();
    private final ServerCall<?, ?> call;
    private final AtomicBoolean written = new AtomicBoolean();

    Entry(ServerCall<?, ?> call) {
      this.call = call;
    }

    void end(Status status) {
      if (!written.compareAndSet(false, true)) {
        return;
      }
      logger
          .atInfo()
          .setMessage("call")
          .addKeyValue("method", call.getMethodDescriptor().getFullMethodName())
          .addKeyValue("status", status.getCode().name())
          .addKeyValue("duration_ms", (System.nanoTime() - start) / 1000 / 1000.0)
          .addKeyValue("peer", peer(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)))
          .log();
    }
  }

  private static String peer(SocketAddress address) {
    if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
      String host = inet.getAddress().getHostAddress();
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
    }
    return String.valueOf(address);
  }
}
