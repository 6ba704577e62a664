package dev.kv.server;

import static dev.kv.server.LoadServer.CALL_TIMEOUT;
import static dev.kv.server.LoadServer.MILLIS;
import static dev.kv.server.LoadServer.SLACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.remote.RemoteStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** Closed-loop calls from several connections, each ended call replaced by a new one. */
final class Flood {
  private static final String PADDING = "x".repeat(64);

  final Tally codes = new Tally();
  final AtomicLong slowestMillis = new AtomicLong();
  private final List<RemoteStore> stores;
  private final ExecutorService callbacks;
  private final int inFlight;
  private final Duration flooding;
  private final AtomicLong sequence = new AtomicLong();
  private final CountDownLatch ended;
  private long started;
  private long end;
  private long stopped;

  /**
   * {@code inFlight} calls at once for {@code flooding}, their callbacks run on {@code callbacks}.
   */
  Flood(List<RemoteStore> stores, ExecutorService callbacks, int inFlight, Duration flooding) {
    this.stores = stores;
    this.callbacks = callbacks;
    this.inFlight = inFlight;
    this.flooding = flooding;
    this.ended = new CountDownLatch(inFlight);
  }

  void start() {
    started = System.nanoTime();
    end = started + flooding.toNanos();
    for (int slot = 0; slot < inFlight; slot++) {
      next(stores.get(slot % stores.size()));
    }
  }

  private void next(RemoteStore store) {
    if (System.nanoTime() >= end) {
      ended.countDown();
      return;
    }
    long n = sequence.incrementAndGet();
    String key = "flood/" + (n % 1000);
    CompletableFuture<?> call =
        n % 2 == 0 ? store.set(key, "f" + n + "-" + PADDING) : store.get(key);
    long sent = System.nanoTime();
    call.orTimeout(CALL_TIMEOUT.plus(SLACK).toMillis(), MILLIS)
        .whenCompleteAsync(
            (result, error) -> {
              slowestMillis.accumulateAndGet(
                  TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent), Math::max);
              codes.add(error == null ? "OK" : Tally.codeOf(error));
              next(store);
            },
            callbacks);
  }

  void awaitEnd() throws InterruptedException {
    boolean over =
        ended.await(flooding.plus(CALL_TIMEOUT).plus(SLACK).plus(SLACK).toMillis(), MILLIS);
    stopped = System.nanoTime();
    assertThat(over).as("every call of the flood ended (%d did not)", ended.getCount()).isTrue();
    assertThat(codes.count("HANG"))
        .as("calls that did not end within %s", CALL_TIMEOUT.plus(SLACK))
        .isZero();
  }

  double seconds() {
    return (stopped - started) / 1e9;
  }
}
