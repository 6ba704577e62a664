package dev.kv.core.grpc;

import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets a channel try peers that failed again now. Without it, gRPC waits longer after each failed
 * connection (up to two minutes), and a peer that is back would stay unused for that long. Paced to
 * once a second, so that a peer that is still down is not hammered.
 */
final class Reconnects {

  private static final Duration PACE = Duration.ofSeconds(1);

  private final ManagedChannel channel;
  private final AtomicLong last = new AtomicLong(System.nanoTime() - PACE.toNanos());

  Reconnects(ManagedChannel channel) {
    this.channel = channel;
  }

  /** Called when a call found its peer unavailable. */
  void soon() {
    long now = System.nanoTime();
    long previous = last.get();
    if (now - previous >= PACE.toNanos() && last.compareAndSet(previous, now)) {
      channel.resetConnectBackoff();
    }
  }
}
