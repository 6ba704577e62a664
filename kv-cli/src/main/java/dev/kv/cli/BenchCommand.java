package dev.kv.cli;

import com.google.gson.JsonObject;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.ReadConsistency;
import dev.kv.core.grpc.GrpcErrors;
import dev.kv.core.local.Threads;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
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

  /** Latencies above this are recorded as this: a call cannot outlast it by much anyway. */
  private static final long MAX_MICROS = TimeUnit.MINUTES.toMicros(10);

  @Override
  public Integer call() throws Exception {
    check();
    KvStore store = kv.store();
    String value = "v".repeat(valueSize);
    if (workload != Workload.set) {
      Run fill = new Run(store, keys, i -> store.set(key(i), value));
      fill.await(null);
      if (fill.done.get() > 0 && fill.succeeded() == 0) {
        throw fill.firstFailure();
      }
    }
    IntFunction<CompletableFuture<?>> operation =
        i -> {
          ThreadLocalRandom random = ThreadLocalRandom.current();
          String key = key(random.nextInt(keys));
          boolean read =
              workload == Workload.get
                  || workload == Workload.mix && random.nextDouble() < readShare;
          return read ? store.get(key, consistency) : store.set(key, value);
        };
    Run run = new Run(store, ops == null ? Long.MAX_VALUE : ops, operation);
    run.deadline = ops == null ? System.nanoTime() + duration.toNanos() : Long.MAX_VALUE;
    PrintWriter err = spec.commandLine().getErr();
    run.await(System.console() != null ? err : null);
    if (run.done.get() > 0 && run.succeeded() == 0) {
      throw run.firstFailure();
    }
    report(run);
    return ExitCodes.OK;
  }

  private void check() {
    if (concurrency < 1 || keys < 1 || valueSize < 0 || ops != null && ops < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--concurrency, --keys and --ops must be at least 1, and --value-size at least 0");
    }
    if (readShare < 0 || readShare > 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--read-share is a fraction between 0 and 1, not " + readShare);
    }
    if (duration.isZero() || duration.isNegative()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--duration must be positive");
    }
  }

  private String key(int index) {
    return prefix + index;
  }

  /** Calls kept {@link #concurrency} in flight until a count or a deadline is reached. */
  private final class Run {
    final KvStore store;
    final long count;
    final IntFunction<CompletableFuture<?>> operation;
    long deadline = Long.MAX_VALUE;
    final Recorder latencies = new Recorder(MAX_MICROS, 3);
    final Histogram total = new Histogram(MAX_MICROS, 3);
    final Map<KvException.Code, LongAdder> errors = new ConcurrentHashMap<>();
    final AtomicLong done = new AtomicLong();
    volatile KvException firstFailure;
    long startNanos;
    long endNanos;

    Run(KvStore store, long count, IntFunction<CompletableFuture<?>> operation) {
      this.store = store;
      this.count = count;
      this.operation = operation;
    }

    void await(PrintWriter progress) throws InterruptedException {
      Semaphore inFlight = new Semaphore(concurrency);
      ScheduledExecutorService ticker =
          Executors.newSingleThreadScheduledExecutor(Threads.daemon("kv-bench-progress"));
      startNanos = System.nanoTime();
      if (progress != null) {
        AtomicLong last = new AtomicLong();
        ticker.scheduleAtFixedRate(
            () -> {
              long now = done.get();
              progress.printf(
                  "\r%,d calls  %,d/s  %,d errors   ",
                  now, now - last.getAndSet(now), errorCount());
              progress.flush();
            },
            1,
            1,
            TimeUnit.SECONDS);
      }
      try {
        for (long i = 0; i < count && System.nanoTime() < deadline; i++) {
          inFlight.acquire();
          long sent = System.nanoTime();
          operation
              .apply((int) (i % Integer.MAX_VALUE))
              .whenComplete(
                  (result, error) -> {
                    if (error == null) {
                      latencies.recordValue(
                          Math.min(MAX_MICROS, (System.nanoTime() - sent) / 1_000));
                    } else {
                      fail(error);
                    }
                    done.incrementAndGet();
                    inFlight.release();
                  });
        }
        inFlight.acquire(concurrency);
      } finally {
        endNanos = System.nanoTime();
        ticker.shutdownNow();
        if (progress != null) {
          progress.print("\r" + " ".repeat(60) + "\r");
          progress.flush();
        }
      }
      total.add(latencies.getIntervalHistogram());
    }

    private void fail(Throwable error) {
      Throwable cause = GrpcErrors.unwrap(error);
      KvException failure =
          cause instanceof KvException known
              ? known
              : new KvException(KvException.Code.INTERNAL, String.valueOf(cause), cause);
      if (firstFailure == null) {
        firstFailure = failure;
      }
      errors.computeIfAbsent(failure.code(), code -> new LongAdder()).increment();
    }

    long errorCount() {
      return errors.values().stream().mapToLong(LongAdder::sum).sum();
    }

    long succeeded() {
      return done.get() - errorCount();
    }

    KvException firstFailure() {
      return new KvException(
          firstFailure.code(), "every call failed; the first: " + firstFailure.getMessage());
    }

    double seconds() {
      return (endNanos - startNanos) / 1e9;
    }
  }

  private void report(Run run) {
    Histogram latency = run.total;
    Map<String, Long> errors = new TreeMap<>();
    run.errors.forEach((code, count) -> errors.put(code.name(), count.sum()));
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
      result.addProperty("calls", run.done.get());
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
    out.printf("calls      %,d in %.1f s: %,.0f/s%n", run.done.get(), run.seconds(), rate);
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
