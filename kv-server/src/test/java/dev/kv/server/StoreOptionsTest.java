package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvStore;
import dev.kv.launch.CommandLines;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The store the options open measures itself in the registry given, and in none without. */
class StoreOptionsTest {

  @TempDir Path dataDir;

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Command(name = "test")
  static final class Options {
    @Mixin StoreOptions store;
  }

  private static StoreOptions parse(String... args) {
    Options options = new Options();
    // Failures are reported only when a command runs; parsing alone throws them.
    CommandLines.create(options, null).parseArgs(args);
    return options.store;
  }

  @Test
  void open_withARegistry_givesItToTheStore() {
    try (KvStore store = parse("--store", "memory").open(registry)) {
      store.blocking().set("k", "v");
    }

    assertThat(
            registry
                .get("kv.store.operations")
                .tags("store", "memory", "operation", "set", "code", "OK")
                .timer()
                .count())
        .isEqualTo(1);
  }

  @Test
  void open_embedded_withARegistry_servesItsDisk() {
    try (KvStore store =
        parse("--store", "embedded", "--data-dir", dataDir.toString()).open(registry)) {
      store.blocking().set("k", "v");

      assertThat(registry.get("kv.embedded.disk.size").gauge().value()).isPositive();
    }
  }

  @Test
  void open_withoutARegistry_measuresNothing() {
    try (KvStore store = parse("--store", "memory").open(null)) {
      store.blocking().set("k", "v");
    }

    assertThat(registry.getMeters()).isEmpty();
  }
}
