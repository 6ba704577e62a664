package dev.kv.cli;

import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.grpc.GrpcErrors;
import dev.kv.core.local.Threads;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Calls kept a number in flight until a count or a deadline is reached. Each call is sent as the
 * one before it in its slot ends, on the thread that saw it end: no thread waits or wakes another
 * in between, so that the rate measures the store rather than kv.
 */
final class BenchRun {

  /** One call, the {@code index}th of the run, to {@code store}. */
  @FunctionalInterface
  interface Operation {
    CompletableFuture<?> call(KvStore store, long index);
  }

  /** Latencies above this are recorded as this: a call cannot outlast it by much anyway. */
  private static final long MAX_MICROS = TimeUnit.MINUTES.toMicros(10);

  private final List<KvStore> stores;
  private final int concurrency;
  private final long count;
  private final Duration duration;
  private final Operation operation;
  private final AtomicLong sent = new AtomicLong();
  private final Recorder latencies = new Recorder(MAX_MICROS, 3);
  private final Map<KvException.Code, LongAdder> errors = new ConcurrentHashMap<>();
  private final LongAdder done = new LongAdder();
  private volatile KvException firstFailure;
  private CountDownLatch slotsEnded;
  private long deadline;
  private long startNanos;
  private long endNanos;
  private long cpuNanos;

  /** The latencies of the calls that succeeded, in microseconds, once the run is over. */
  final Histogram latency = new Histogram(MAX_MICROS, 3);

  /**
   * @param stores where the calls go, the slots spread over them in turn
   * @param duration how long to run; null to run until {@code count} calls are done
   */
  BenchRun(
      List<KvStore> stores, int concurrency, long count, Duration duration, Operation operation) {
    this.stores = stores;
    this.concurrency = concurrency;
    this.count = count;
    this.duration = duration;
    this.operation = operation;
  }

  /** Runs the calls; on a terminal, {@code progress} shows how far they got each second. */
  BenchRun run(PrintWriter progress) throws InterruptedException {
    ScheduledExecutorService ticker =
        Executors.newSingleThreadScheduledExecutor(Threads.daemon("kv-bench-progress"));
    if (progress != null) {
      AtomicLong last = new AtomicLong();
      ticker.scheduleAtFixedRate(
          () -> {
            long now = done.sum();
            progress.printf(
                "\r%,d calls  %,d/s  %,d errors   ", now, now - last.getAndSet(now), errorCount());
            progress.flush();
          },
          1,
          1,
          TimeUnit.SECONDS);
    }
    slotsEnded = new CountDownLatch(concurrency);
    long cpuStart = processCpuNanos();
    startNanos = System.nanoTime();
    deadline = duration == null ? Long.MAX_VALUE : startNanos + duration.toNanos();
    try {
      for (int slot = 0; slot < concurrency; slot++) {
        next(stores.get(slot % stores.size()));
      }
      slotsEnded.await();
    } finally {
      endNanos = System.nanoTime();
      cpuNanos = cpuStart < 0 ? -1 : processCpuNanos() - cpuStart;
      ticker.shutdownNow();
      if (progress != null) {
        progress.print("\r" + " ".repeat(60) + "\r");
        progress.flush();
      }
    }
    latency.add(latencies.getIntervalHistogram());
    return this;
  }

  /** Sends the next call of a slot, and the next when it ends, until the run is over. */
  private void next(KvStore store) {
    for (long index = sent.getAndIncrement();
        index < count && System.nanoTime() < deadline;
        index = sent.getAndIncrement()) {
      long start = System.nanoTime();
      CompletableFuture<?> call = operation.call(store, index);
      if (!call.isDone()) {
        call.whenComplete(
            (result, error) -> {
              ended(start, error);
              next(store);
            });
        return;
      }
      // Answered at once (a request refused before it was sent): a loop, rather than a recursion.
      call.whenComplete((result, error) -> ended(start, error));
    }
    slotsEnded.countDown();
  }

  private void ended(long start, Throwable error) {
    if (error == null) {
      latencies.recordValue(Math.min(MAX_MICROS, (System.nanoTime() - start) / 1_000));
    } else {
      fail(error);
    }
    done.increment();
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

  long calls() {
    return done.sum();
  }

  Map<KvException.Code, LongAdder> errors() {
    return errors;
  }

  long errorCount() {
    return errors.values().stream().mapToLong(LongAdder::sum).sum();
  }

  long succeeded() {
    return calls() - errorCount();
  }

  /** The error to end with when every call failed; null when some succeeded or none ran. */
  KvException allFailed() {
    if (calls() == 0 || succeeded() > 0) {
      return null;
    }
    return new KvException(
        firstFailure.code(), "every call failed; the first: " + firstFailure.getMessage());
  }

  double seconds() {
    return (endNanos - startNanos) / 1e9;
  }

  /** The processor time kv spent per call, all its threads together; -1 when unknown. */
  double cpuMicrosPerCall() {
    return cpuNanos < 0 || calls() == 0 ? -1 : cpuNanos / 1e3 / calls();
  }

  private static long processCpuNanos() {
    return ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getProcessCpuTime()
        : -1;
  }
}
