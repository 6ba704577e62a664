package dev.kv.core.grpc;

import dev.kv.core.config.HostPort;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.HandlerRegistry;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A gRPC proxy on loopback that forwards every call, message by message, to one upstream, and cuts
 * streams when a test says: at once, or right after it forwards the response a test picks out, so
 * that a client sees a stream break at an exact point. A cut ends each open call with {@code
 * UNAVAILABLE}, as a lost connection would, and the proxy refuses calls the same way until {@link
 * #reopen}.
 */
public final class CuttingProxy implements AutoCloseable {

  private final ManagedChannel upstream;
  private final Server server;
  private final Set<ForwardedCall> open = ConcurrentHashMap.newKeySet();
  private volatile boolean cut;
  private volatile Predicate<byte[]> cutAfter;

  private CuttingProxy(HostPort target) throws IOException {
    upstream =
        NettyChannelBuilder.forAddress(
                target.host(), target.port(), InsecureChannelCredentials.create())
            .build();
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .fallbackHandlerRegistry(
                new HandlerRegistry() {
                  @Override
                  public ServerMethodDefinition<?, ?> lookupMethod(
                      String method, String authority) {
                    return ServerMethodDefinition.create(descriptor(method), forward());
                  }
                })
            .build()
            .start();
  }

  /** A proxy to {@code target}, a plaintext gRPC server, listening on a free loopback port. */
  public static CuttingProxy to(HostPort target) throws IOException {
    return new CuttingProxy(target);
  }

  /** Where clients reach the proxy. */
  public HostPort address() {
    return new HostPort("127.0.0.1", server.getPort());
  }

  /** Cuts every open call now, and refuses new ones until {@link #reopen}. */
  public void cut() {
    cut = true;
    open.forEach(ForwardedCall::sever);
  }

  /** Forwards calls again. */
  public void reopen() {
    cut = false;
  }

  /**
   * Cuts, as {@link #cut} does, right after forwarding the next response that {@code response}
   * accepts (given its bytes), before the upstream's next message reaches the client.
   */
  public void cutAfter(Predicate<byte[]> response) {
    cutAfter = response;
  }

  /** Whether the proxy is cut, by {@link #cut} or after the response {@link #cutAfter} chose. */
  public boolean isCut() {
    return cut;
  }

  private static MethodDescriptor<byte[], byte[]> descriptor(String method) {
    return MethodDescriptor.newBuilder(RawBytes.INSTANCE, RawBytes.INSTANCE)
        .setFullMethodName(method)
        .setType(MethodDescriptor.MethodType.UNKNOWN)
        .build();
  }

  private ServerCallHandler<byte[], byte[]> forward() {
    return (call, headers) -> {
      if (cut) {
        call.close(Status.UNAVAILABLE.withDescription("the test proxy is cut"), new Metadata());
        return new ServerCall.Listener<>() {};
      }
      ForwardedCall forwarded = new ForwardedCall(call);
      open.add(forwarded);
      forwarded.start(headers);
      return forwarded.fromClient();
    };
  }

  /** One client call and its upstream twin. Calls on the client's side are made under its lock. */
  private final class ForwardedCall {
    private final ServerCall<byte[], byte[]> client;
    private final ClientCall<byte[], byte[]> server;
    private boolean closed;

    ForwardedCall(ServerCall<byte[], byte[]> client) {
      this.client = client;
      this.server = upstream.newCall(client.getMethodDescriptor(), CallOptions.DEFAULT);
    }

    void start(Metadata headers) {
      server.start(
          new ClientCall.Listener<>() {
            @Override
            public void onHeaders(Metadata responseHeaders) {
              synchronized (ForwardedCall.this) {
                if (!closed) {
                  client.sendHeaders(responseHeaders);
                }
              }
            }

            @Override
            public void onMessage(byte[] message) {
              Predicate<byte[]> cutHere = cutAfter;
              synchronized (ForwardedCall.this) {
                if (closed) {
                  return;
                }
                client.sendMessage(message);
              }
              if (cutHere != null && cutHere.test(message)) {
                cutAfter = null;
                CuttingProxy.this.cut();
                return;
              }
              server.request(1);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
              close(status, trailers);
            }
          },
          headers);
      server.request(1);
      client.request(1);
    }

    ServerCall.Listener<byte[]> fromClient() {
      return new ServerCall.Listener<>() {
        @Override
        public void onMessage(byte[] message) {
          server.sendMessage(message);
          client.request(1);
        }

        @Override
        public void onHalfClose() {
          server.halfClose();
        }

        @Override
        public void onCancel() {
          server.cancel("the client cancelled", null);
          open.remove(ForwardedCall.this);
        }
      };
    }

    void sever() {
      // The client first, so that it gets this status rather than the cancellation's.
      close(Status.UNAVAILABLE.withDescription("the test proxy cut the call"), new Metadata());
      server.cancel("the test proxy cut the call", null);
    }

    private synchronized void close(Status status, Metadata trailers) {
      open.remove(this);
      if (!closed) {
        closed = true;
        client.close(status, trailers);
      }
    }
  }

  @Override
  public void close() {
    server.shutdownNow();
    upstream.shutdownNow();
    try {
      server.awaitTermination(10, TimeUnit.SECONDS);
      upstream.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
