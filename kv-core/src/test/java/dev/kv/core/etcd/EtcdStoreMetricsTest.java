package dev.kv.core.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kv.core.KvStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** An etcd store given a registry measures its calls to a real member, its batches and token. */
@Timeout(120)
class EtcdStoreMetricsTest {

  private static final Duration TOKEN_TTL = Duration.ofSeconds(2);
  private static final Duration WAIT = Duration.ofSeconds(30);

  @RegisterExtension
  static final EtcdCluster etcd = EtcdCluster.ofMembers(1).withAuth("root-secret", TOKEN_TTL);

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private KvStore measuredStore() {
    return EtcdStore.builder()
        .endpoints(etcd.endpoints())
        .timeout(Duration.ofSeconds(30))
        .user("root", "root-secret")
        .metrics(registry)
        .build();
  }

  @Test
  void callsAndBatches_areCounted_andTheMemberInUseShown() {
    try (KvStore store = measuredStore()) {
      store.set("k", "v").join();
      for (int i = 0; i < 5; i++) {
        store.get("k").join();
      }
      List<CompletableFuture<Long>> sets =
          IntStream.range(0, 20).mapToObj(i -> store.set("many/" + i, "v")).toList();
      sets.forEach(CompletableFuture::join);

      await()
          .atMost(WAIT)
          .untilAsserted(
              () -> {
                assertThat(operations("get")).isEqualTo(5);
                assertThat(operations("set")).isEqualTo(21);
              });
      DistributionSummary reads = registry.get("kv.etcd.read.batch.size").summary();
      assertThat(reads.totalAmount()).isEqualTo(5);
      assertThat(reads.count()).isEqualTo(5);
      DistributionSummary writes = registry.get("kv.etcd.write.batch.size").summary();
      assertThat(writes.totalAmount()).isEqualTo(21);
      assertThat(writes.count()).isBetween(2L, 21L);
      assertThat(calls("etcdserverpb.Auth/Authenticate", "OK")).isEqualTo(1);
      // Each batch is one call: a read alone a Range, a batch of writes a Put or a Txn.
      assertThat(
              calls("etcdserverpb.KV/Range", "OK")
                  + calls("etcdserverpb.KV/Put", "OK")
                  + calls("etcdserverpb.KV/Txn", "OK"))
          .isEqualTo(reads.count() + writes.count());
      assertThat(memberInUse()).isEqualTo(1);
    }

    assertThat(registry.find("kv.etcd.member.in.use").gauge()).isNull();
  }

  @Test
  void anExpiredToken_isRenewed_once() throws Exception {
    try (KvStore store = measuredStore()) {
      store.get("k").join();
      assertThat(counter("kv.etcd.token.renewals").count()).isZero();

      // A simple token expires its TTL after its last use; etcd checks once a second.
      Thread.sleep(TOKEN_TTL.plusSeconds(2).toMillis());
      store.get("k").join();

      assertThat(counter("kv.etcd.token.renewals").count()).isEqualTo(1);
      assertThat(calls("etcdserverpb.Auth/Authenticate", "OK")).isEqualTo(2);
    }
  }

  @Test
  void aMemberStoppedAndBack_isReconnectedTo_andTheFailedReadRetried() throws Exception {
    try (KvStore store = measuredStore()) {
      store.get("k").join();
      assertThat(counter("kv.etcd.reconnects").count()).isZero();

      etcd.stop(0);
      try {
        assertThat(store.get("k").handle((found, error) -> error)).succeedsWithin(WAIT).isNotNull();
      } finally {
        etcd.restart(0);
      }
      await().atMost(WAIT).ignoreExceptions().until(() -> store.get("k").join() != null);

      assertThat(counter("kv.etcd.retries").count()).isPositive();
      assertThat(counter("kv.etcd.reconnects").count()).isEqualTo(1);
      assertThat(operations("get")).isPositive();
      assertThat(
              registry
                  .find("kv.store.operations")
                  .tags("store", "etcd", "operation", "get", "code", "UNAVAILABLE")
                  .timer())
          .isNotNull();
    }
  }

  @Test
  void withoutARegistry_nothingIsMeasured() {
    Metrics.addRegistry(registry);
    try (KvStore store =
        EtcdStore.builder().endpoints(etcd.endpoints()).user("root", "root-secret").build()) {
      store.set("k", "v").join();
      store.get("k").join();
    } finally {
      Metrics.removeRegistry(registry);
    }

    assertThat(registry.getMeters()).isEmpty();
  }

  private long operations(String operation) {
    return registry
        .get("kv.store.operations")
        .tags("store", "etcd", "operation", operation, "code", "OK")
        .timer()
        .count();
  }

  private double calls(String method, String code) {
    Counter counter = registry.find("kv.etcd.calls").tags("method", method, "code", code).counter();
    return counter == null ? 0 : counter.count();
  }

  private Counter counter(String name) {
    return registry.get(name).counter();
  }

  private double memberInUse() {
    String endpoint = "http://" + etcd.endpoints().members().get(0);
    return registry.get("kv.etcd.member.in.use").tag("endpoint", endpoint).gauge().value();
  }
}
