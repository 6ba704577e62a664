package dev.kv.core;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The latency and outcome of a store's operations: the timer {@code kv.store.operations}, tagged
 * with the store's kind, the operation and its code ({@code OK} or a {@link KvException.Code}).
 * Each timer is made once and kept, so that measuring a call allocates nothing when it completes at
 * once.
 */
final class StoreOperations {

  /** The operations measured, as their tag names them. */
  enum Operation {
    GET("get"),
    SET("set"),
    SET_IF("set_if"),
    DELETE_IF("delete_if"),
    DELETE("delete"),
    DELETE_PREFIX("delete_prefix"),
    LIST("list");

    private final String tag;

    Operation(String tag) {
      this.tag = tag;
    }
  }

  static final String NAME = "kv.store.operations";

  private static final String OK = "OK";
  private static final KvException.Code[] CODES = KvException.Code.values();

  /** Per operation: OK first, then each code in its order. */
  private static final int OUTCOMES = CODES.length + 1;

  private final MeterRegistry registry;
  private final String store;
  private final AtomicReferenceArray<Timer> timers =
      new AtomicReferenceArray<>(Operation.values().length * OUTCOMES);

  /** Registers the OK timer of every operation at once, so that each is served from the start. */
  StoreOperations(MeterRegistry registry, String store) {
    this.registry = registry;
    this.store = store;
    for (Operation operation : Operation.values()) {
      timer(operation, 0);
    }
  }

  /**
   * Records {@code answer}'s latency from {@code startNanos} once it completes, and returns it as
   * it is, so that cancelling it still reaches the store.
   */
  <T> CompletableFuture<T> measure(
      Operation operation, long startNanos, CompletableFuture<T> answer) {
    if (answer.isDone() && !answer.isCompletedExceptionally()) {
      record(operation, 0, startNanos);
    } else {
      answer.whenComplete(
          (result, error) -> record(operation, error == null ? 0 : outcome(error), startNanos));
    }
    return answer;
  }

  private void record(Operation operation, int outcome, long startNanos) {
    timer(operation, outcome).record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  /** 0 for OK, else 1 + the failure's code; a failure that is not a KvException is a bug. */
  private static int outcome(Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    KvException.Code code =
        cause instanceof KvException failure ? failure.code() : KvException.Code.INTERNAL;
    return 1 + code.ordinal();
  }

  private Timer timer(Operation operation, int outcome) {
    int index = operation.ordinal() * OUTCOMES + outcome;
    Timer timer = timers.get(index);
    if (timer == null) {
      // The registry gives the same timer to a racing thread.
      timer =
          Timer.builder(NAME)
              .description("Operations on the store, by operation and outcome")
              .tag("store", store)
              .tag("operation", operation.tag)
              .tag("code", outcome == 0 ? OK : CODES[outcome - 1].name())
              .publishPercentileHistogram()
              .register(registry);
      timers.set(index, timer);
    }
    return timer;
  }
}
