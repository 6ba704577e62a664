package dev.kv.core.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** An embedded store given a registry measures its group commits and its data directory. */
@Timeout(60)
class EmbeddedStoreMetricsTest {

  @TempDir Path dataDir;

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Test
  void writes_areTimed_andCountedInTheirBatches() {
    try (EmbeddedStore store = EmbeddedStore.builder().dataDir(dataDir).metrics(registry).build()) {
      List<CompletableFuture<Long>> sets =
          IntStream.range(0, 50).mapToObj(i -> store.set("k" + i, "v")).toList();
      sets.forEach(CompletableFuture::join);

      DistributionSummary batches = registry.get("kv.embedded.commit.batch.size").summary();
      // Each write is in exactly one batch; batches that hold only expiries are not counted.
      assertThat(batches.totalAmount()).isEqualTo(50);
      assertThat(batches.count()).isBetween(1L, 50L);
      assertThat(registry.get("kv.embedded.writes").timer().count()).isEqualTo(batches.count());
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(
                          registry
                              .get("kv.store.operations")
                              .tags("store", "embedded", "operation", "set", "code", "OK")
                              .timer()
                              .count())
                      .isEqualTo(50));
    }
  }

  @Test
  void gauges_readTheDataDirectory_whileOpen_andLeaveWithTheStore() {
    try (EmbeddedStore store = EmbeddedStore.builder().dataDir(dataDir).metrics(registry).build()) {
      store.blocking().set("k", "v".repeat(10_000));

      assertThat(registry.get("kv.embedded.disk.size").gauge().value()).isGreaterThan(10_000);
      assertThat(registry.get("kv.embedded.pending.compaction").gauge().value()).isNotNaN();
      assertThat(registry.get("kv.embedded.write.stalls").gauge().value()).isZero();
    }

    assertThat(registry.find("kv.embedded.disk.size").gauge()).isNull();
    assertThat(registry.find("kv.embedded.write.stalls").gauge()).isNull();
  }

  @Test
  void reopened_inTheSameRegistry_servesItsOwnGauges() {
    EmbeddedStore.builder().dataDir(dataDir).metrics(registry).build().close();
    try (EmbeddedStore store = EmbeddedStore.builder().dataDir(dataDir).metrics(registry).build()) {
      store.blocking().set("k", "v");

      assertThat(registry.get("kv.embedded.disk.size").gauge().value()).isPositive();
    }
  }
}
