package dev.kv.core.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A memory store given a registry measures each operation, by outcome; one without, nothing. */
class MemoryStoreMetricsTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Test
  void everyOperation_isTimed_byItsOutcome_aMissingKeyBeingAnAnswer() {
    try (MemoryStore store = MemoryStore.builder().metrics(registry).build()) {
      store.blocking().set("k", "v");
      for (int i = 0; i < 5; i++) {
        store.get("k").join();
      }
      store.get("missing").join();
      store.get("").exceptionally(refused -> null).join();
      store.list(ListQuery.prefix("")).join();
      store.delete("k").join();
      store.deletePrefix("p/").join();
      store.setIf("k", "v", 99).join();
    }

    assertThat(count("get", "OK")).isEqualTo(6);
    assertThat(count("get", "INVALID_ARGUMENT")).isEqualTo(1);
    assertThat(count("set", "OK")).isEqualTo(1);
    assertThat(count("list", "OK")).isEqualTo(1);
    assertThat(count("delete", "OK")).isEqualTo(1);
    assertThat(count("delete_prefix", "OK")).isEqualTo(1);
    assertThat(count("set_if", "OK")).isEqualTo(1);
    assertThat(count("delete_if", "OK")).isZero();
    assertThat(timer("get", "OK").totalTime(TimeUnit.NANOSECONDS)).isPositive();
  }

  @Test
  void aClosedStore_refusesWithUnavailable_whichIsCounted() {
    MemoryStore store = MemoryStore.builder().metrics(registry).build();
    store.close();

    store.set("k", "v").exceptionally(refused -> null).join();

    assertThat(count("set", KvException.Code.UNAVAILABLE.name())).isEqualTo(1);
  }

  @Test
  void withoutARegistry_nothingIsMeasured_notEvenInTheGlobalOne() {
    Metrics.addRegistry(registry);
    try (MemoryStore store = MemoryStore.builder().build()) {
      store.blocking().set("k", "v");
      store.get("k").join();
    } finally {
      Metrics.removeRegistry(registry);
    }

    assertThat(registry.getMeters()).isEmpty();
  }

  private long count(String operation, String code) {
    Timer timer = timer(operation, code);
    return timer == null ? 0 : timer.count();
  }

  private Timer timer(String operation, String code) {
    return registry
        .find("kv.store.operations")
        .tags("store", "memory", "operation", operation, "code", code)
        .timer();
  }
}
