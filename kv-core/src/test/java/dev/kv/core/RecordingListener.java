package dev.kv.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Collects what a watch delivers, for tests to wait on. */
public final class RecordingListener implements WatchListener {

  private final BlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
  private final CompletableFuture<KvException> error = new CompletableFuture<>();

  @Override
  public void onEvent(WatchEvent event) {
    events.add(event);
  }

  @Override
  public void onError(KvException failure) {
    error.complete(failure);
  }

  /** Waits for the next {@code count} events, failing after {@code timeout}. */
  public List<WatchEvent> next(int count, Duration timeout) throws InterruptedException {
    List<WatchEvent> received = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (received.size() < count) {
      WatchEvent event =
          events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (event == null) {
        throw new AssertionError(
            "got "
                + received.size()
                + " of "
                + count
                + " events within "
                + timeout
                + ": "
                + received);
      }
      received.add(event);
    }
    return received;
  }

  /** The events delivered so far and not yet taken. */
  public List<WatchEvent> drain() {
    List<WatchEvent> received = new ArrayList<>();
    events.drainTo(received);
    return received;
  }

  /** The error that ended the watch, once there is one. */
  public CompletableFuture<KvException> error() {
    return error;
  }
}
