package dev.kv.server;

import dev.kv.api.KVGrpc;
import dev.kv.core.KvStore;
import dev.kv.core.config.HostPort;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The kv gRPC server: the {@code kv.KV} service over a store, with standard health checking ({@code
 * grpc.health.v1.Health}, for {@code ""} and {@code kv.KV}) and server reflection, so that load
 * balancers and tools work without the .proto files.
 */
public final class KvServer {

  /** The service name that health checks and reflection know the API by. */
  public static final String SERVICE_NAME = KVGrpc.SERVICE_NAME;

  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();

  /** A server built on {@code builder}, such as an in-process one in tests. */
  public KvServer(ServerBuilder<?> builder, KvStore store) {
    this.server =
        builder
            .addService(CallFailureInterceptor.guard(new KvService(store)))
            .addService(CallFailureInterceptor.guard(health.getHealthService()))
            .addService(CallFailureInterceptor.guard(ProtoReflectionServiceV1.newInstance()))
            .build();
    setServing(ServingStatus.NOT_SERVING);
  }

  /** A server that will listen on {@code address} over plaintext HTTP/2. */
  public static KvServer listeningOn(HostPort address, KvStore store) {
    return new KvServer(NettyServerBuilder.forAddress(address.toSocketAddress()), store);
  }

  /**
   * Starts serving, and reports {@code SERVING} to health checks.
   *
   * @throws IOException when the address cannot be bound, for example because it is in use
   */
  public KvServer start() throws IOException {
    server.start();
    setServing(ServingStatus.SERVING);
    return this;
  }

  /** The port the server listens on, once started; useful after asking for port 0. */
  public int port() {
    return server.getPort();
  }

  /** The address the server listens on, once started, in the form clients connect to. */
  public HostPort address() {
    for (SocketAddress address : server.getListenSockets()) {
      if (address instanceof InetSocketAddress inet) {
        return new HostPort(inet.getAddress().getHostAddress(), inet.getPort());
      }
    }
    throw new IllegalStateException("the server listens on no network address");
  }

  /**
   * Stops gracefully: health checks answer {@code NOT_SERVING} first so that load balancers move
   * away, new calls are refused, and calls in flight get up to {@code grace} to finish before they
   * are cancelled. Returns once the server has stopped.
   */
  public void stop(Duration grace) throws InterruptedException {
    if (!server.isShutdown()) {
      health.enterTerminalState();
      server.shutdown();
    }
    if (!server.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS)) {
      server.shutdownNow();
      server.awaitTermination();
    }
  }

  /** Waits until the server has stopped. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  private void setServing(ServingStatus status) {
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
    health.setStatus(SERVICE_NAME, status);
  }
}
