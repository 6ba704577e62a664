package dev.kv.core.etcd;

import dev.kv.core.config.Durations;
import dev.kv.core.tls.ClientTls;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;

/** How {@link EtcdStore} reaches the cluster: {@link EtcdStore#builder()}. */
public final class EtcdStoreBuilder {

  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  /** etcd's own default of --max-txn-ops. */
  private static final int DEFAULT_MAX_TXN_OPS = 128;

  EtcdEndpoints endpoints;
  String authority;
  Duration timeout = DEFAULT_TIMEOUT;
  int maxTxnOps = DEFAULT_MAX_TXN_OPS;

  /** Where callbacks run; null for gRPC's network threads. */
  Executor executor;

  ClientTls tls;
  String user;
  String password;
  MeterRegistry metrics;

  EtcdStoreBuilder() {}

  /** The members' client URLs. Required. */
  public EtcdStoreBuilder endpoints(EtcdEndpoints endpoints) {
    this.endpoints = Objects.requireNonNull(endpoints, "endpoints");
    return this;
  }

  /**
   * The {@code :authority} every call carries, for an L7 proxy that routes on it (such as an Envoy
   * listener that sends authority {@code etcd} to the cluster). By default, the first endpoint's
   * {@code host:port}.
   */
  public EtcdStoreBuilder authority(String authority) {
    this.authority = authority == null || authority.isBlank() ? null : authority;
    return this;
  }

  /** How long each call may take, retries included. Default: 5 seconds. */
  public EtcdStoreBuilder timeout(Duration timeout) {
    this.timeout = Durations.requireTimeout(timeout);
    return this;
  }

  /**
   * The most operations the members take in one Txn, their {@code --max-txn-ops}: concurrent reads
   * and writes go to etcd in Txns of at most this many. Default: 128, etcd's own; 1 sends each read
   * and write as its own Range or Put, as etcd's own clients do.
   */
  public EtcdStoreBuilder maxTxnOps(int maxTxnOps) {
    if (maxTxnOps < 1) {
      throw new IllegalArgumentException("etcd's --max-txn-ops is at least 1, not " + maxTxnOps);
    }
    this.maxTxnOps = maxTxnOps;
    return this;
  }

  /**
   * Completes the store's futures, and calls watch listeners, on {@code executor} instead of on
   * gRPC's network threads, where they run by default. For an embedder whose callbacks block
   * (waiting on {@link dev.kv.core.KvStore#blocking()}, a lock or a disk inside {@code thenApply}
   * or a listener): on a network thread, a callback that blocks stalls every call of the store.
   * Without it there is no hop to a pool: about a third less CPU per call.
   */
  public EtcdStoreBuilder executor(Executor executor) {
    this.executor = Objects.requireNonNull(executor, "executor");
    return this;
  }

  /**
   * The CA that signs the members' certificates, and this client's certificate when they ask for
   * one ({@code --client-cert-auth}). For {@code https://} endpoints only; without it, they are
   * checked against the system's trusted CAs.
   */
  public EtcdStoreBuilder tls(ClientTls tls) {
    this.tls = tls;
    return this;
  }

  /**
   * Signs in as {@code user}, for a cluster with authentication enabled: every call carries the
   * token etcd gives for the password, renewed when it expires.
   */
  public EtcdStoreBuilder user(String user, String password) {
    if (user == null || user.isEmpty() || password == null) {
      throw new IllegalArgumentException("an etcd user needs a name and a password");
    }
    this.user = user;
    this.password = password;
    return this;
  }

  /**
   * Where to measure the store: its operations (see {@link dev.kv.core.AbstractKvStore}); its calls
   * to etcd ({@code kv.etcd.calls}, tagged {@code method} and {@code code}, gRPC's status), the
   * attempts gRPC sends again ({@code kv.etcd.retries}) and new connections to a member after its
   * first ({@code kv.etcd.reconnects}); the sizes of read and write batches ({@code
   * kv.etcd.read.batch.size}, {@code kv.etcd.write.batch.size}); token renewals ({@code
   * kv.etcd.token.renewals}); and per endpoint, 1 while it carries calls ({@code
   * kv.etcd.member.in.use}, tagged {@code endpoint}). Null, the default, for nowhere.
   */
  public EtcdStoreBuilder metrics(MeterRegistry metrics) {
    this.metrics = metrics;
    return this;
  }

  /** Opens the channel; members are connected to on the first call. */
  public EtcdStore build() {
    return new EtcdStore(this);
  }
}
