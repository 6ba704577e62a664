package dev.kv.server;

import dev.kv.core.config.HostPort;
import dev.kv.core.remote.RemoteStore;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * kv-server run as users run it (the launcher's JVM options), on the memory store with small
 * limits, its usage sampled: what the load tests run against, with the bounds they share.
 */
final class LoadServer {

  /** The deadline of every call; a call not over within it and {@link #SLACK} hangs. */
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);

  /** Generous, so that a busy machine's delays are not taken for a hang. */
  static final Duration SLACK = Duration.ofSeconds(25);

  /**
   * How long watches may take to deliver what was acknowledged before what they got is counted: a
   * bound for busy machines, not a measure (they catch up in well under a second on an idle one).
   */
  static final Duration CATCH_UP = Duration.ofSeconds(60);

  static final TimeUnit MILLIS = TimeUnit.MILLISECONDS;

  /**
   * The bound on the server's peak resident memory (VmHWM). Measured on 2 cores: 88-91 MB at start,
   * a peak of 163-169 MB over both phases of {@link LoadWithinAndBeyondLimitsTest}. The launcher's
   * options cap the heap (128 MB) and direct buffers (64 MB): on top of the JVM's own start, about
   * 280 MB at most, so more than 300 MB means growth outside those caps (threads, native memory).
   */
  private static final long MAX_PEAK_KB = 300L << 10;

  private final Closer closer;
  private final DaemonProcess daemon;
  private final UsageSampler usage;
  private final HostPort address;

  private LoadServer(Closer closer, DaemonProcess daemon, UsageSampler usage, HostPort address) {
    this.closer = closer;
    this.daemon = daemon;
    this.usage = usage;
    this.address = address;
  }

  /**
   * Starts kv-server with these limits. It goes first when {@code closer} closes, its sampler just
   * before it: its clients then close at once, whatever state it was left in.
   */
  static LoadServer start(Closer closer, int maxCalls, int maxWatches) throws Exception {
    List<String> jvmOptions = DaemonProcess.launcherJvmOptions();
    DaemonProcess daemon =
        closer.addToCloseFirst(
            DaemonProcess.startMain(
                jvmOptions,
                "--store",
                "memory",
                "--listen",
                "127.0.0.1:0",
                "--max-calls",
                String.valueOf(maxCalls),
                "--max-watches",
                String.valueOf(maxWatches)));
    HostPort address = daemon.awaitListening();
    UsageSampler usage = closer.addToCloseFirst(new UsageSampler(daemon.pid()));
    System.out.printf(
        "load: kv-server pid %d with %s, --max-calls %d --max-watches %d: at start %s%n",
        daemon.pid(), String.join(" ", jvmOptions), maxCalls, maxWatches, usage.now());
    return new LoadServer(closer, daemon, usage, address);
  }

  HostPort address() {
    return address;
  }

  UsageSampler usage() {
    return usage;
  }

  String output() {
    return daemon.output();
  }

  /** What is wrong with the server process: gone, out of memory, or over its memory bound. */
  List<String> problems(Usage now, String output) {
    List<String> problems = new ArrayList<>(daemon.problems(output));
    if (now.hwmKb() >= MAX_PEAK_KB) {
      problems.add(
          "the server's peak resident memory is "
              + (now.hwmKb() >> 10)
              + " MB, beyond "
              + (MAX_PEAK_KB >> 10)
              + " MB");
    }
    return problems;
  }

  /** Clients on connections of their own, each with {@link #CALL_TIMEOUT}. */
  List<RemoteStore> connect(int count) {
    List<RemoteStore> stores = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      stores.add(closer.add(RemoteStore.connect(address, CALL_TIMEOUT)));
    }
    return stores;
  }

  /** Plain channels, for calls whose every answer the test sees as it is. */
  List<ManagedChannel> channels(int count) {
    List<ManagedChannel> channels = new ArrayList<>();
    for (int c = 0; c < count; c++) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext().build();
      channels.add(channel);
      closer.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    }
    return channels;
  }

  /** The value of {@code future}, failing the test if it takes longer than {@code timeout}. */
  static <T> T awaitWithin(CompletableFuture<T> future, Duration timeout, String what)
      throws InterruptedException, ExecutionException {
    try {
      return future.get(timeout.toMillis(), MILLIS);
    } catch (TimeoutException e) {
      throw new AssertionError("waited " + timeout + " for " + what + ": it hangs");
    }
  }

  /**
   * Polls {@code condition} until it holds or {@code timeout} passes; returns whether it held. When
   * it never does, the checks that follow say what is missing.
   */
  static boolean waitFor(Duration timeout, BooleanSupplier condition) {
    try {
      Awaitility.await()
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(50))
          .until(condition::getAsBoolean);
      return true;
    } catch (ConditionTimeoutException e) {
      return false;
    }
  }
}
