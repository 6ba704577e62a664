package dev.kv.core.etcd;

import dev.kv.core.config.HostPort;
import dev.kv.etcd.api.etcdserverpb.KVGrpc;
import dev.kv.etcd.api.etcdserverpb.RangeRequest;
import dev.kv.etcd.api.etcdserverpb.RangeResponse;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for an etcd member that finds no keys and records the {@code :authority} of every
 * call, for what real etcd cannot show: it ignores the authority.
 */
public final class RecordingEtcd implements AutoCloseable {

  private final List<String> authorities = new CopyOnWriteArrayList<>();
  private final Server server;

  public RecordingEtcd() throws IOException {
    ServerInterceptor recordAuthority =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> io.grpc.ServerCall.Listener<ReqT> interceptCall(
              io.grpc.ServerCall<ReqT, RespT> call,
              io.grpc.Metadata headers,
              io.grpc.ServerCallHandler<ReqT, RespT> next) {
            authorities.add(String.valueOf(call.getAuthority()));
            return next.startCall(call, headers);
          }
        };
    KVGrpc.KVImplBase noKeys =
        new KVGrpc.KVImplBase() {
          @Override
          public void range(RangeRequest request, StreamObserver<RangeResponse> responses) {
            responses.onNext(RangeResponse.getDefaultInstance());
            responses.onCompleted();
          }
        };
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(ServerInterceptors.intercept(noKeys, recordAuthority))
            .build()
            .start();
  }

  public EtcdEndpoints endpoints() {
    return new EtcdEndpoints(List.of(new HostPort("127.0.0.1", server.getPort())));
  }

  /** The :authority of each call received, in order. */
  public List<String> authorities() {
    return List.copyOf(authorities);
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}
