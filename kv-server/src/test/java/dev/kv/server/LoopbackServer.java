package dev.kv.server;

import dev.kv.core.KvStore;
import dev.kv.core.config.HostPort;
import dev.kv.core.grpc.RawBytes;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** A kv-server on a free loopback port, and one client channel to it. */
final class LoopbackServer implements AutoCloseable {

  final KvServer server;
  final ManagedChannel channel;

  private LoopbackServer(KvServer server) {
    this.server = server;
    this.channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  static LoopbackServer start(KvStore store) throws IOException {
    return start(KvServer.builder(new HostPort("127.0.0.1", 0), store));
  }

  /** A server that {@code server} configures, on the address it was given. */
  static LoopbackServer start(KvServer.Builder server) throws IOException {
    return new LoopbackServer(server.build().start());
  }

  /** A unary method whose requests and responses are the bytes on the wire, unparsed. */
  static MethodDescriptor<byte[], byte[]> rawMethod(String fullMethodName) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(fullMethodName)
        .setRequestMarshaller(RawBytes.INSTANCE)
        .setResponseMarshaller(RawBytes.INSTANCE)
        .build();
  }

  @Override
  public void close() {
    try {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.stop(Duration.ZERO);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
