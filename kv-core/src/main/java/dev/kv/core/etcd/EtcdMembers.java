package dev.kv.core.etcd;

import dev.kv.core.KvException;
import dev.kv.core.StoreStatus;
import dev.kv.core.config.HostPort;
import dev.kv.core.grpc.GrpcErrors;
import dev.kv.core.grpc.StoreConnection;
import dev.kv.core.tls.ClientTls;
import dev.kv.etcd.api.etcdserverpb.MaintenanceGrpc;
import dev.kv.etcd.api.etcdserverpb.StatusRequest;
import dev.kv.etcd.api.etcdserverpb.StatusResponse;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Each member's own Maintenance.Status, as {@code etcdctl endpoint status} asks for it: on a
 * channel to that member alone, opened for the call, since the store's channel spreads calls over
 * the members. A member that does not answer is listed with its error.
 */
final class EtcdMembers {

  /** One member's answer, with the revision its header carries (0 without one). */
  private record Answer(StoreStatus.Member member, long revision) {}

  private final EtcdEndpoints endpoints;
  private final String authority;
  private final ClientTls tls;
  private final Executor executor;
  private final Duration timeout;
  private final EtcdToken token;

  /** The members {@code builder} lists, reached as it says; with {@code token} when signed in. */
  EtcdMembers(EtcdStoreBuilder builder, EtcdToken token) {
    this.endpoints = builder.endpoints;
    this.authority = builder.authority;
    this.tls = builder.tls;
    this.executor = builder.executor;
    this.timeout = builder.timeout;
    this.token = token;
  }

  /** The cluster's status: each member's, and the newest revision any of them answered with. */
  CompletableFuture<StoreStatus> status() {
    List<CompletableFuture<Answer>> answers =
        endpoints.members().stream().map(this::status).toList();
    return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
        .thenApply(
            all -> {
              List<Answer> answered = answers.stream().map(CompletableFuture::join).toList();
              return new StoreStatus(
                  "etcd",
                  answered.stream().mapToLong(Answer::revision).max().orElse(0),
                  answered.stream().map(Answer::member).toList(),
                  Optional.empty(),
                  Optional.empty());
            });
  }

  private CompletableFuture<Answer> status(HostPort address) {
    EtcdEndpoints alone = new EtcdEndpoints(List.of(address), endpoints.https());
    String endpoint = alone.toString();
    ManagedChannel channel;
    try {
      // Not counted in the store's metrics: a status probe is not a call of the store's.
      channel = EtcdChannel.open(alone, authority, tls, executor, EtcdMetrics.NONE);
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(unreachable(endpoint, e));
    }
    StoreConnection connection =
        StoreConnection.over(channel, "etcd member at " + endpoint, timeout);
    return connection
        .call(
            EtcdStore.signed(MaintenanceGrpc.newStub(channel), token),
            MaintenanceGrpc.MaintenanceStub::status,
            StatusRequest::getDefaultInstance,
            response -> new Answer(member(endpoint, response), response.getHeader().getRevision()))
        .exceptionally(error -> unreachable(endpoint, error))
        .whenComplete((answer, error) -> channel.shutdown());
  }

  private static StoreStatus.Member member(String endpoint, StatusResponse status) {
    long id = status.getHeader().getMemberId();
    return new StoreStatus.Member(
        endpoint,
        Optional.empty(),
        id,
        status.getVersion(),
        id != 0 && status.getLeader() == id,
        status.getDbSize(),
        status.getRaftIndex(),
        status.getRaftTerm(),
        status.getIsLearner());
  }

  private static Answer unreachable(String endpoint, Throwable error) {
    Throwable cause = GrpcErrors.unwrap(error);
    String message = cause instanceof KvException ? cause.getMessage() : cause.toString();
    return new Answer(StoreStatus.Member.unreachable(endpoint, message), 0);
  }
}
