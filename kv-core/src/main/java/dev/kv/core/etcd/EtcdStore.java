package dev.kv.core.etcd;

import dev.kv.core.AbstractKvStore;
import dev.kv.core.Deleted;
import dev.kv.core.KeyValue;
import dev.kv.core.Keys;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.ReadConsistency;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.StoreStatus;
import dev.kv.core.Swap;
import dev.kv.core.Watch;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.grpc.SnapshotDownload;
import dev.kv.core.grpc.StoreConnection;
import dev.kv.etcd.api.etcdserverpb.AuthGrpc;
import dev.kv.etcd.api.etcdserverpb.DeleteRangeRequest;
import dev.kv.etcd.api.etcdserverpb.KVGrpc;
import dev.kv.etcd.api.etcdserverpb.LeaseGrantRequest;
import dev.kv.etcd.api.etcdserverpb.LeaseGrantResponse;
import dev.kv.etcd.api.etcdserverpb.LeaseGrpc;
import dev.kv.etcd.api.etcdserverpb.LeaseRevokeRequest;
import dev.kv.etcd.api.etcdserverpb.LeaseTimeToLiveRequest;
import dev.kv.etcd.api.etcdserverpb.LeaseTimeToLiveResponse;
import dev.kv.etcd.api.etcdserverpb.MaintenanceGrpc;
import dev.kv.etcd.api.etcdserverpb.RangeRequest;
import dev.kv.etcd.api.etcdserverpb.RequestOp;
import dev.kv.etcd.api.etcdserverpb.SnapshotRequest;
import dev.kv.etcd.api.etcdserverpb.WatchGrpc;
import io.grpc.ManagedChannel;
import io.grpc.stub.AbstractStub;
import java.io.OutputStream;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.Supplier;

/**
 * A store kept in an etcd cluster, reached over etcd's own v3 gRPC API.
 *
 * <p>One long-lived channel reaches every member: calls are spread over the members that answer,
 * and move away from one that goes away. Every call carries a deadline. Reads are linearizable, and
 * are retried on another member when one is unavailable; writes are not retried once sent, since a
 * retry could apply them twice.
 *
 * <p>Keys and values are stored as their UTF-8 bytes, so other etcd clients read them as text. A
 * cluster shared with other programs may hold values that are not UTF-8 text: listings and watches
 * give them as {@link KeyValue#binary} entries, while {@link #get} of such a key fails with {@link
 * KvException.Code#FAILED_PRECONDITION} rather than return altered text. Keys that are not UTF-8
 * text cannot be named through this API at all: listings and watches leave them out.
 *
 * <pre>{@code
 * try (KvStore store = EtcdStore.builder()
 *     .endpoints(EtcdEndpoints.parse("http://127.0.0.1:2379"))
 *     .build()) {
 *   store.blocking().set("greeting", "hello");
 * }
 * }</pre>
 */
public final class EtcdStore extends AbstractKvStore {

  private final StoreConnection connection;
  private final EtcdErrors errors;
  private final KVGrpc.KVStub kv;
  private final LeaseGrpc.LeaseStub lease;
  private final WatchGrpc.WatchStub watch;
  private final MaintenanceGrpc.MaintenanceStub maintenance;
  private final ReadBatcher reads;
  private final WriteBatcher writes;
  private final EtcdHealth health;
  private final EtcdMembers members;
  private final EtcdMetrics metrics;
  private final PageReader.Lookups lookups;

  EtcdStore(EtcdStoreBuilder builder) {
    super(clientOf(builder), "etcd", builder.metrics);
    String peer = "etcd at " + builder.endpoints;
    this.metrics = EtcdMetrics.of(builder.metrics, builder.endpoints);
    ManagedChannel channel =
        EtcdChannel.open(
            builder.endpoints, builder.authority, builder.tls, builder.executor, metrics);
    EtcdToken token =
        builder.user == null
            ? null
            : new EtcdToken(
                AuthGrpc.newStub(channel),
                builder.user,
                builder.password,
                peer,
                builder.timeout,
                metrics::tokenRenewed);
    this.errors = new EtcdErrors(token);
    this.connection =
        StoreConnection.owning(channel, peer, builder.timeout, builder.timeout, errors);
    this.kv = signed(KVGrpc.newStub(channel), token);
    this.lease = signed(LeaseGrpc.newStub(channel), token);
    this.watch = EtcdWatch.requiringLeader(signed(WatchGrpc.newStub(channel), token));
    this.members = new EtcdMembers(builder, token);
    this.lookups = lookups(new OldestRevision(watch, builder.timeout));
    this.maintenance = signed(MaintenanceGrpc.newStub(channel), token);
    this.health = new EtcdHealth(connection, kv, maintenance);
    this.reads =
        new ReadBatcher(
            request ->
                connection.call(kv, KVGrpc.KVStub::range, () -> request, Function.identity()),
            request -> connection.call(kv, KVGrpc.KVStub::txn, () -> request, Function.identity()),
            builder.maxTxnOps,
            metrics::readBatch);
    this.writes =
        new WriteBatcher(
            request -> connection.call(kv, KVGrpc.KVStub::put, () -> request, Function.identity()),
            request -> connection.call(kv, KVGrpc.KVStub::txn, () -> request, Function.identity()),
            builder.maxTxnOps,
            metrics::writeBatch);
  }

  private static String clientOf(EtcdStoreBuilder builder) {
    return "the client of etcd at " + Objects.requireNonNull(builder.endpoints, "endpoints");
  }

  /** {@code stub}, its calls carrying the user's token when there is one. */
  static <S extends AbstractStub<S>> S signed(S stub, EtcdToken token) {
    return token == null ? stub : stub.withCallCredentials(token);
  }

  public static EtcdStoreBuilder builder() {
    return new EtcdStoreBuilder();
  }

  @Override
  protected CompletableFuture<Optional<KeyValue>> doGet(String key, ReadConsistency consistency) {
    if (consistency == ReadConsistency.LINEARIZABLE) {
      return reads.read(EtcdMessages.utf8(key)).thenApply(EtcdMessages::firstEntry);
    }
    return connection.call(
        kv,
        KVGrpc.KVStub::range,
        () -> EtcdMessages.get(key, consistency),
        EtcdMessages::firstEntry);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Sets that arrive while another is on its way go together, as one Txn applied at one
   * revision: see {@link WriteBatcher}. One with a time to live holds its own lease, so joins them
   * as well.
   */
  @Override
  protected CompletableFuture<Long> doSet(String key, String value, long ttlSeconds) {
    return withLease(
        ttlSeconds, lease -> writes.write(EtcdMessages.put(key, value, lease).build()));
  }

  @Override
  protected CompletableFuture<Swap> doSetIf(
      String key, String value, long expectedModRevision, long ttlSeconds) {
    return withLease(
        ttlSeconds,
        lease ->
            swap(
                key,
                expectedModRevision,
                RequestOp.newBuilder().setRequestPut(EtcdMessages.put(key, value, lease)).build()));
  }

  /**
   * Runs {@code write} with the ID of a lease granted for {@code ttlSeconds}, or 0 (no lease) when
   * there is none: etcd deletes a key when its lease expires.
   */
  private <T> CompletableFuture<T> withLease(
      long ttlSeconds, LongFunction<CompletableFuture<T>> write) {
    if (ttlSeconds == 0) {
      return write.apply(0);
    }
    return connection
        .call(
            lease,
            LeaseGrpc.LeaseStub::leaseGrant,
            () -> LeaseGrantRequest.newBuilder().setTTL(ttlSeconds).build(),
            LeaseGrantResponse::getID)
        .thenCompose(
            granted ->
                write
                    .apply(granted)
                    .whenComplete(
                        (result, error) -> {
                          // A lease no key took would linger, keyless, until its TTL ran out.
                          if (error != null || (result instanceof Swap swap && !swap.applied())) {
                            revoke(granted);
                          }
                        }));
  }

  /** Revokes a lease, deleting what it holds; a failure leaves it to expire by itself. */
  private void revoke(long leaseId) {
    connection.call(
        lease,
        LeaseGrpc.LeaseStub::leaseRevoke,
        () -> LeaseRevokeRequest.newBuilder().setID(leaseId).build(),
        response -> null);
  }

  @Override
  protected CompletableFuture<Swap> doDeleteIf(String key, long expectedModRevision) {
    return swap(key, expectedModRevision, EtcdMessages.delete(key));
  }

  /** Writes if the key's mod revision is the expected one: see {@link EtcdMessages#swap}. */
  private CompletableFuture<Swap> swap(String key, long expectedModRevision, RequestOp write) {
    return connection.call(
        kv,
        KVGrpc.KVStub::txn,
        () -> EtcdMessages.swap(key, expectedModRevision, write),
        EtcdMessages::swapped);
  }

  @Override
  protected CompletableFuture<Deleted> doDelete(String key) {
    return deleteRange(() -> DeleteRangeRequest.newBuilder().setKey(EtcdMessages.utf8(key)));
  }

  @Override
  protected CompletableFuture<Deleted> doDeletePrefix(String prefix) {
    return deleteRange(
        () ->
            DeleteRangeRequest.newBuilder()
                .setKey(EtcdMessages.utf8(prefix))
                .setRangeEnd(EtcdMessages.rangeEnd(Keys.prefixEnd(prefix))));
  }

  private CompletableFuture<Deleted> deleteRange(Supplier<DeleteRangeRequest.Builder> request) {
    return connection.call(
        kv, KVGrpc.KVStub::deleteRange, () -> request.get().build(), EtcdMessages::deleted);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Keys that are not UTF-8 text, which other etcd clients may write, are left out, so a page
   * may hold fewer entries than its limit; it is never empty while {@link Page#more()}. etcd has no
   * byte limit of its own: {@link PageReader} reads each page in Ranges that keep it.
   *
   * <p>A revision asked for is read as etcd keeps it, until it is compacted. Times to live cost one
   * LeaseTimeToLive call per lease in the page, {@value PageReader#LOOKUPS_IN_FLIGHT} at a time.
   */
  @Override
  protected CompletableFuture<Page> doList(ListQuery query) {
    return PageReader.read(
        query,
        EtcdMessages.list(query),
        (request, maxResponseBytes) ->
            connection.call(
                kv,
                (stub, built, answer) ->
                    (maxResponseBytes > 0 ? stub.withMaxInboundMessageSize(maxResponseBytes) : stub)
                        .range(built, answer),
                () -> request,
                Function.identity()),
        lookups);
  }

  /** What a page asks of etcd besides Ranges: times to live of leases, the oldest revision kept. */
  private PageReader.Lookups lookups(OldestRevision oldest) {
    return new PageReader.Lookups() {
      @Override
      public CompletableFuture<Long> timeToLive(long id) {
        return connection.call(
            lease,
            LeaseGrpc.LeaseStub::leaseTimeToLive,
            () -> LeaseTimeToLiveRequest.newBuilder().setID(id).build(),
            LeaseTimeToLiveResponse::getTTL);
      }

      @Override
      public CompletableFuture<Long> oldestKept(long compacted) {
        return oldest.after(compacted);
      }
    };
  }

  @Override
  public Watch watch(WatchQuery query, WatchListener listener) {
    return connection.watch(new EtcdWatch(query, listener, watch, connection, errors));
  }

  /**
   * Answers once the cluster serves a quorum read, and raises no alarm that stops writes: see
   * {@link EtcdHealth}.
   */
  @Override
  public CompletableFuture<Void> checkHealth() {
    return health.check();
  }

  /**
   * Each member's own status, asked of it alone, as {@code etcdctl endpoint status} does; the
   * revision is the newest any member answered with.
   */
  @Override
  public CompletableFuture<StoreStatus> status() {
    return members.status();
  }

  /**
   * {@inheritDoc}
   *
   * <p>etcd's own database file, as one member streams it (Maintenance.Snapshot, which {@code
   * etcdctl snapshot save} calls too): {@code etcdctl snapshot restore} reads it. A member that
   * goes away meanwhile fails the snapshot; it is not taken again from another.
   *
   * <p>etcd's snapshot stream says nothing of its revision (no header, in 3.4 as in later
   * releases): the one given is that of a linearizable read just before the snapshot was asked for,
   * unless a member sends one. The snapshot holds every write up to it, and may hold a few made
   * meanwhile; a member restored from it starts at the snapshot's exact revision.
   */
  @Override
  public CompletableFuture<SnapshotInfo> snapshot(OutputStream out) {
    Objects.requireNonNull(out, "out");
    return connection
        .call(
            kv,
            KVGrpc.KVStub::range,
            () ->
                RangeRequest.newBuilder().setKey(EtcdMessages.FIRST_KEY).setCountOnly(true).build(),
            response -> response.getHeader().getRevision())
        .thenCompose(
            revision ->
                SnapshotDownload.start(
                    maintenance,
                    MaintenanceGrpc.MaintenanceStub::snapshot,
                    SnapshotRequest.getDefaultInstance(),
                    out,
                    new EtcdSnapshot(connection.peer(), revision),
                    connection,
                    "kv-etcd-snapshot"));
  }

  /** Ends every watch, then closes the channel, waiting up to the timeout for calls under way. */
  @Override
  public void close() {
    connection.close();
    metrics.close();
  }
}
