package dev.kv.core.etcd;

import com.google.protobuf.ByteString;
import dev.kv.core.KvException;
import dev.kv.core.grpc.StoreConnection;
import dev.kv.etcd.api.etcdserverpb.KVGrpc;
import dev.kv.etcd.api.etcdserverpb.MaintenanceGrpc;
import dev.kv.etcd.api.etcdserverpb.RangeRequest;
import dev.kv.etcd.api.etcdserverpb.StatusRequest;
import io.grpc.Status;
import java.util.concurrent.CompletableFuture;

/**
 * Whether a cluster can serve kv: it answers a quorum read, and raises no alarm that stops writes.
 * A user without access to the key read counts as healthy, as etcdctl's health check has it: the
 * cluster answered, and kv's data may well be elsewhere. A cluster over its space quota still
 * reads, but refuses every write until an operator frees space: it fails the check, as a full disk
 * fails the embedded store's.
 */
final class EtcdHealth {

  /** The key etcd's own health check reads; reading it is cheap and needs a quorum. */
  private static final ByteString HEALTH_KEY = ByteString.copyFromUtf8("health");

  private final StoreConnection connection;
  private final KVGrpc.KVStub kv;
  private final MaintenanceGrpc.MaintenanceStub maintenance;

  EtcdHealth(
      StoreConnection connection, KVGrpc.KVStub kv, MaintenanceGrpc.MaintenanceStub maintenance) {
    this.connection = connection;
    this.kv = kv;
    this.maintenance = maintenance;
  }

  CompletableFuture<Void> check() {
    return quorumRead().thenCompose(answered -> requireNoSpaceAlarm());
  }

  private CompletableFuture<Void> quorumRead() {
    return connection.call(
        kv,
        KVGrpc.KVStub::range,
        () -> RangeRequest.newBuilder().setKey(HEALTH_KEY).setCountOnly(true).build(),
        response -> null,
        Status.Code.PERMISSION_DENIED,
        null);
  }

  /**
   * Fails while etcd's NOSPACE alarm is raised: a member raises it when its database reaches its
   * quota ({@code --quota-backend-bytes}), for the whole cluster, and only an operator disarms it.
   * Status lists the alarms among its errors; it is answered by the member, without a quorum. A
   * server that speaks etcd's KV API but not its maintenance API raises no alarm.
   */
  private CompletableFuture<Void> requireNoSpaceAlarm() {
    return connection.call(
        maintenance,
        MaintenanceGrpc.MaintenanceStub::status,
        StatusRequest::getDefaultInstance,
        status -> {
          if (EtcdErrors.isOutOfSpace(status.getErrorsList())) {
            throw new KvException(
                KvException.Code.UNAVAILABLE,
                connection.peer()
                    + " is over its space quota (alarm NOSPACE) and refuses every write: free"
                    + " space (compact, defragment) or raise --quota-backend-bytes, then disarm"
                    + " the alarm (etcdctl alarm disarm)");
          }
          return null;
        },
        Status.Code.UNIMPLEMENTED,
        null);
  }
}
