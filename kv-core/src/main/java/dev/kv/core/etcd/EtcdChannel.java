package dev.kv.core.etcd;

import dev.kv.core.grpc.ChannelThreads;
import dev.kv.core.tls.ClientTls;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/** The one channel that reaches every member of a cluster, configured for etcd. */
final class EtcdChannel {

  private EtcdChannel() {}

  /**
   * Opens a channel to {@code endpoints}; members are connected to on the first call.
   *
   * @param authority the {@code :authority} every call carries, or null for each member's own
   * @param tls for {@code https://} endpoints; null for the system's trusted CAs
   * @param executor where callbacks run; null for gRPC's network threads
   * @param metrics what measures the channel's calls
   * @throws IllegalArgumentException for TLS files with {@code http://} endpoints
   */
  @SuppressWarnings("deprecation") // nameResolverFactory: the resolver is this channel's own
  static ManagedChannel open(
      EtcdEndpoints endpoints,
      String authority,
      ClientTls tls,
      Executor executor,
      EtcdMetrics metrics) {
    NettyChannelBuilder channel =
        ChannelThreads.of(
            NettyChannelBuilder.forTarget(
                EndpointsNameResolver.SCHEME + ":///", credentials(endpoints, tls)),
            ChannelThreads.pool("kv-etcd"),
            executor);
    String callsCarry = authority != null ? authority : endpoints.members().get(0).toString();
    ClientInterceptor measured = metrics.interceptor();
    if (measured != null) {
      channel.intercept(measured);
    }
    return channel
        .nameResolverFactory(
            EndpointsNameResolver.factory(endpoints, callsCarry, authority == null))
        .defaultServiceConfig(serviceConfig())
        .enableRetry()
        // Notices a member that vanished without closing its connections. etcd accepts pings
        // every 5s or more while calls are open, and none without (its defaults).
        .keepAliveTime(10, TimeUnit.SECONDS)
        .keepAliveTimeout(5, TimeUnit.SECONDS)
        // etcd accepts requests up to 1.5 MiB and may answer larger ranges.
        .maxInboundMessageSize(64 * 1024 * 1024)
        .build();
  }

  private static ChannelCredentials credentials(EtcdEndpoints endpoints, ClientTls tls) {
    if (!endpoints.https()) {
      if (tls != null) {
        throw new IllegalArgumentException(
            "TLS files are given, but the etcd endpoints "
                + endpoints
                + " are http://: use https:// endpoints for etcd members that serve TLS");
      }
      return InsecureChannelCredentials.create();
    }
    return (tls != null ? tls : new ClientTls(null, null, null)).credentials();
  }

  /**
   * Round robin over the members that answer; reads retried on UNAVAILABLE, which etcd answers for
   * a member that lost its leader or its connection. Writes get only gRPC's transparent retries,
   * which resend a call that never reached a member.
   */
  private static Map<String, Object> serviceConfig() {
    Map<String, Object> retryReads =
        Map.of(
            "name", List.of(Map.of("service", "etcdserverpb.KV", "method", "Range")),
            "retryPolicy",
                Map.of(
                    "maxAttempts",
                    5.0,
                    "initialBackoff",
                    "0.05s",
                    "maxBackoff",
                    "1s",
                    "backoffMultiplier",
                    2.0,
                    "retryableStatusCodes",
                    List.of("UNAVAILABLE")));
    return Map.of(
        "loadBalancingConfig", List.of(Map.of("round_robin", Map.of())),
        "methodConfig", List.of(retryReads));
  }
}
