package dev.kv.core.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kv.core.ReadConsistency;
import dev.kv.core.memory.MemoryStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A read cache given a registry counts its hits, misses and evictions, and serves its state. */
@Timeout(60)
class ReadCacheMetricsTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Test
  void hitsMissesAndEvictions_areCounted_andSizeAndLivenessServed() {
    MemoryStore behind = new MemoryStore();
    behind.blocking().set("a", "1");
    behind.blocking().set("b", "2");
    behind.blocking().set("c", "3");
    ReadCache cache = ReadCache.over(behind, 2, registry);
    await().atMost(WAIT).until(cache::isLive);
    assertThat(gauge("kv.cache.live")).isEqualTo(1);

    read(cache, "a"); // miss
    read(cache, "a"); // hit
    read(cache, "a"); // hit
    read(cache, "b"); // miss
    read(cache, "c"); // miss, and a or b makes room

    assertThat(count("kv.cache.hits")).isEqualTo(2);
    assertThat(count("kv.cache.misses")).isEqualTo(3);
    assertThat(count("kv.cache.evictions")).isEqualTo(1);
    assertThat(gauge("kv.cache.size")).isEqualTo(2);
    assertThat(cache.hits()).isEqualTo(2);

    cache.close();

    assertThat(registry.find("kv.cache.live").gauge()).isNull();
    assertThat(registry.find("kv.cache.hits").functionCounter()).isNull();
  }

  private static void read(ReadCache cache, String key) {
    cache.get(key, ReadConsistency.SERIALIZABLE).join();
  }

  private double count(String name) {
    return registry.get(name).functionCounter().count();
  }

  private double gauge(String name) {
    return registry.get(name).gauge().value();
  }
}
