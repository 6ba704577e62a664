package dev.kv.cli;

import com.google.gson.JsonObject;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.ReadConsistency;
import dev.kv.core.local.Threads;
import java.io.PrintWriter;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    sortOptions = false,
    description = {
      "Measures the store that kv reaches (--server or --etcd-endpoints): keeps --concurrency "
          + "calls in flight for --duration (or --ops calls), then prints the throughput, the latency "
          + "percentiles and the errors by status. Read workloads first write the keys they "
          + "read. On a terminal, a progress line on standard error shows the calls done, the "
          + "current rate and the errors.",
      "",
      "It writes keys under --prefix: run it on a store whose data it may overwrite."
    })
final class BenchCommand implements Callable<Integer> {

  enum Workload {
    get,
    set,
    mix
  }

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Option(
      names = {"-w", "--workload"},
      paramLabel = "WORKLOAD",
      defaultValue = "get",
      description = "get, set, or mix (see --read-share). Default: ${DEFAULT-VALUE}.")
  Workload workload;

  @Option(
      names = "--read-share",
      paramLabel = "FRACTION",
      defaultValue = "0.9",
      description =
          "With --workload mix: the share of calls that are gets. Default: ${DEFAULT-VALUE}.")
  double readShare;

  @Option(
      names = {"-c", "--concurrency"},
      paramLabel = "N",
      defaultValue = "16",
      description = "Calls kept in flight. Default: ${DEFAULT-VALUE}.")
  int concurrency;

  @Option(
      names = {"-d", "--duration"},
      paramLabel = "DURATION",
      defaultValue = "10s",
      description = "How long to run, unless --ops is given. Default: ${DEFAULT-VALUE}.")
  Duration duration;

  @Option(
      names = {"-n", "--ops"},
      paramLabel = "N",
      description = "Run this many calls rather than for --duration.")
  Long ops;

  @Option(
      names = "--keys",
      paramLabel = "N",
      defaultValue = "1000",
      description = "How many keys the calls spread over, at random. Default: ${DEFAULT-VALUE}.")
  int keys;

  @Option(
      names = "--value-size",
      paramLabel = "BYTES",
      defaultValue = "100",
      description = "The size of the values written. Default: ${DEFAULT-VALUE}.")
  int valueSize;

  @Option(
      names = "--consistency",
      paramLabel = "LEVEL",
      defaultValue = "linearizable",
      description = "Of the gets: linearizable or serializable. Default: ${DEFAULT-VALUE}.")
  ReadConsistency consistency;

  @Option(
      names = "--prefix",
      paramLabel = "PREFIX",
      defaultValue = "bench/",
      description = "The keys are PREFIX0 to PREFIX<keys-1>. Default: ${DEFAULT-VALUE}.")
  String prefix;

  @Option(
      names = "--warmup",
      paramLabel = "DURATION",
      defaultValue = "3s",
      description =
          "How long to run first, unmeasured, so that the measured calls find kv's code compiled"
              + " and its connections open; on, up to four times as long, while the compiler is"
              + " still busy. 0s for none. Default: ${DEFAULT-VALUE}.")
  Duration warmup;

  @Option(
      names = "--connections",
      paramLabel = "N",
      description =
          "Connections the calls spread over, each with a network thread of its own. Default:"
              + " the number of processors.")
  Integer connections;

  /** How many times --warmup the warmup lasts at most, while the JIT compiler is busy. */
  private static final int WARMUP_STRETCH = 4;

  /** The warmup's steps, after each of which it checks whether the compiler is still busy. */
  private static final Duration STEP = Duration.ofSeconds(1);

  /** How long the warmup ran. */
  private Duration warmedUp = Duration.ZERO;

  @Override
  public Integer call() throws Exception {
    check();
    List<KvStore> stores = new ArrayList<>(List.of(kv.store()));
    try {
      while (stores.size() < connections) {
        stores.add(kv.newStore());
      }
      return measure(stores);
    } finally {
      stores.subList(1, stores.size()).forEach(KvStore::close);
    }
  }

  private int measure(List<KvStore> stores) throws Exception {
    String value = "v".repeat(valueSize);
    if (workload != Workload.set) {
      endIfAllFailed(
          new BenchRun(stores, concurrency, keys, null, (store, i) -> store.set(key(i), value))
              .run(null));
    }
    BenchRun.Operation operation =
        (store, i) -> {
          ThreadLocalRandom random = ThreadLocalRandom.current();
          String key = key(random.nextInt(keys));
          boolean read =
              workload == Workload.get
                  || workload == Workload.mix && random.nextDouble() < readShare;
          return read ? store.get(key, consistency) : store.set(key, value);
        };
    PrintWriter progress = System.console() != null ? spec.commandLine().getErr() : null;
    warmUp(stores, operation, progress);
    BenchRun run =
        new BenchRun(
            stores,
            concurrency,
            ops == null ? Long.MAX_VALUE : ops,
            ops == null ? duration : null,
            operation);
    endIfAllFailed(run.run(progress));
    report(run);
    return ExitCodes.OK;
  }

  /**
   * Runs for {@code --warmup}, then on, a second at a time, while the JIT compiler is still busy
   * (up to {@link #WARMUP_STRETCH} times as long in all): on a loaded machine it compiles for
   * seconds more, on the processors that the measured calls and the server share.
   */
  private void warmUp(List<KvStore> stores, BenchRun.Operation operation, PrintWriter progress)
      throws InterruptedException {
    long start = System.nanoTime();
    long until = start + warmup.toNanos();
    long limit = start + WARMUP_STRETCH * warmup.toNanos();
    long compiling = compilingMillis();
    while (System.nanoTime() < until) {
      Duration step = Duration.ofNanos(Math.min(until - System.nanoTime(), STEP.toNanos()));
      endIfAllFailed(
          new BenchRun(stores, concurrency, Long.MAX_VALUE, step, operation).run(progress));
      long compiled = compilingMillis() - compiling;
      compiling += compiled;
      if (compiled > step.toMillis() / 10 && until < limit) {
        until = Math.min(limit, Math.max(until, System.nanoTime() + STEP.toNanos()));
      }
    }
    warmedUp = Duration.ofNanos(System.nanoTime() - start);
  }

  /** The time the JIT compiler has spent so far, all its threads together; 0 when unknown. */
  private static long compilingMillis() {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported()
        ? jit.getTotalCompilationTime()
        : 0;
  }

  /** Ends the command when every call of {@code run} failed: there is nothing to measure. */
  private static void endIfAllFailed(BenchRun run) {
    KvException failed = run.allFailed();
    if (failed != null) {
      throw failed;
    }
  }

  private void check() {
    if (connections == null) {
      connections = Threads.processors();
    }
    if (concurrency < 1 || keys < 1 || valueSize < 0 || connections < 1 || ops != null && ops < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--concurrency, --connections, --keys and --ops must be at least 1, and --value-size at"
              + " least 0");
    }
    if (readShare < 0 || readShare > 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--read-share is a fraction between 0 and 1, not " + readShare);
    }
    if (duration.isZero() || duration.isNegative() || warmup.isNegative()) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--duration must be positive, and --warmup at least 0s");
    }
  }

  private String key(long index) {
    return prefix + index;
  }

  private void report(BenchRun run) {
    Histogram latency = run.latency;
    Map<String, Long> errors = new TreeMap<>();
    run.errors().forEach((code, count) -> errors.put(code.name(), count.sum()));
    // Of the calls answered without error: a target failing fast must not look faster.
    double rate = run.succeeded() / run.seconds();
    PrintWriter out = spec.commandLine().getOut();
    if (kv.output == Output.json) {
      JsonObject result = new JsonObject();
      result.addProperty("workload", workload.name());
      result.addProperty("consistency", consistency.name().toLowerCase(Locale.ROOT));
      result.addProperty("concurrency", concurrency);
      result.addProperty("keys", keys);
      result.addProperty("valueSize", valueSize);
      result.addProperty("connections", connections);
      result.addProperty("warmupSeconds", warmedUp.toMillis() / 1e3);
      result.addProperty("calls", run.calls());
      result.addProperty("seconds", run.seconds());
      result.addProperty("callsPerSecond", rate);
      JsonObject micros = new JsonObject();
      for (Map.Entry<String, Double> percentile : PERCENTILES.entrySet()) {
        micros.addProperty(
            percentile.getKey(), latency.getValueAtPercentile(percentile.getValue()));
      }
      micros.addProperty("max", latency.getMaxValue());
      result.add("latencyMicros", micros);
      JsonObject failed = new JsonObject();
      errors.forEach(failed::addProperty);
      result.add("errors", failed);
      if (run.cpuMicrosPerCall() >= 0) {
        result.addProperty("cpuMicrosPerCall", run.cpuMicrosPerCall());
      }
      Output.print(out, result);
      return;
    }
    out.printf(
        "workload   %s%s, %d in flight, %,d keys, %,d-byte values%n",
        workload,
        workload == Workload.set ? "" : " (" + consistency.name().toLowerCase(Locale.ROOT) + ")",
        concurrency,
        keys,
        valueSize);
    out.printf(
        "calls      %,d in %.1f s: %,.0f/s, over %d connection%s, after a %.1f s warmup%n",
        run.calls(),
        run.seconds(),
        rate,
        connections,
        connections == 1 ? "" : "s",
        warmedUp.toMillis() / 1e3);
    StringBuilder line = new StringBuilder("latency   ");
    for (Map.Entry<String, Double> percentile : PERCENTILES.entrySet()) {
      line.append(' ')
          .append(percentile.getKey())
          .append(' ')
          .append(millis(latency.getValueAtPercentile(percentile.getValue())));
    }
    line.append("  max ").append(millis(latency.getMaxValue()));
    out.println(line);
    out.println(
        "errors     " + (errors.isEmpty() ? "none" : errors.toString().replaceAll("[{}]", "")));
    if (run.cpuMicrosPerCall() >= 0) {
      out.printf("cpu        %.1f us per call, kv's own%n", run.cpuMicrosPerCall());
    }
  }

  private static final Map<String, Double> PERCENTILES = new LinkedHashMap<>();

  static {
    PERCENTILES.put("p50", 50.0);
    PERCENTILES.put("p90", 90.0);
    PERCENTILES.put("p99", 99.0);
    PERCENTILES.put("p99.9", 99.9);
  }

  private static String millis(long micros) {
    return String.format(Locale.ROOT, "%.2fms", micros / 1000.0);
  }
}
