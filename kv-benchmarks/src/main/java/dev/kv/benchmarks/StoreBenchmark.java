package dev.kv.benchmarks;

import dev.kv.core.KvStore;
import dev.kv.core.ReadConsistency;
import dev.kv.core.cache.ReadCache;
import dev.kv.core.embedded.EmbeddedStore;
import dev.kv.core.memory.MemoryStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The stores' hot paths, in this process, without the network: a get of a key that exists, and a
 * set (on the embedded store, forced to disk; with 8 writers, sharing syncs).
 *
 * <pre>
 * ./mvnw -q package -DskipTests -pl kv-benchmarks -am
 * java -jar kv-benchmarks/target/benchmarks.jar            # all, a few minutes
 * java -jar kv-benchmarks/target/benchmarks.jar get -p store=memory
 * java -jar kv-benchmarks/target/benchmarks.jar 'get|set$' -p store=memory   # metrics none and on
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class StoreBenchmark {

  private static final int KEYS = 1_000;
  private static final String VALUE = "v".repeat(100);

  /** memory; embedded (on a temporary directory); cached: the read cache over memory. */
  @Param({"memory", "embedded", "cached"})
  public String store;

  /** none; prometheus: the store measures its operations in the registry kv-server serves. */
  @Param({"none", "prometheus"})
  public String metrics;

  private KvStore kv;
  private Path dataDir;

  @Setup(Level.Trial)
  public void open() throws IOException {
    MeterRegistry registry =
        switch (metrics) {
          case "none" -> null;
          case "prometheus" -> new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
          default -> throw new IllegalArgumentException("no registry " + metrics);
        };
    kv =
        switch (store) {
          case "memory" -> MemoryStore.builder().metrics(registry).build();
          case "embedded" -> {
            dataDir = Files.createTempDirectory("kv-bench");
            yield EmbeddedStore.builder().dataDir(dataDir).metrics(registry).build();
          }
          case "cached" ->
              ReadCache.over(MemoryStore.builder().metrics(registry).build(), 10 * KEYS, registry);
          default -> throw new IllegalArgumentException("no store " + store);
        };
    for (int i = 0; i < KEYS; i++) {
      kv.blocking().set(key(i), VALUE);
    }
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    kv.close();
    if (dataDir != null) {
      try (Stream<Path> files = Files.walk(dataDir)) {
        for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(file);
        }
      }
    }
  }

  /** A serializable get, which the cache answers from memory once it holds the key. */
  @Benchmark
  public Object get() {
    return kv.get(randomKey(), ReadConsistency.SERIALIZABLE).join();
  }

  @Benchmark
  public long set() {
    return kv.set(randomKey(), VALUE).join();
  }

  /** Eight writers at once: on the embedded store, they share syncs. */
  @Benchmark
  @Threads(8)
  public long set8() {
    return kv.set(randomKey(), VALUE).join();
  }

  private static String randomKey() {
    return key(ThreadLocalRandom.current().nextInt(KEYS));
  }

  private static String key(int index) {
    return "bench/" + index;
  }
}
