package dev.kv.core.grpc;

import dev.kv.core.local.Threads;
import io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.ExecutorService;

/**
 * The threads a store's channel runs callbacks that may block (and blocking work such as name
 * resolution) on: a bounded pool of its own, rather than gRPC's default one, which starts a thread
 * for each callback that finds the others busy, without end. Its threads end once idle: it needs no
 * shutting down.
 */
public final class ChannelThreads {

  /** Enough for callbacks that block now and then, as a watch listener that writes out may. */
  public static final int THREADS = Math.max(4, 2 * Threads.processors());

  private ChannelThreads() {}

  /** {@code channel}, with a pool of threads named {@code name} for all its callbacks. */
  public static NettyChannelBuilder of(NettyChannelBuilder channel, String name) {
    ExecutorService pool = pool(name);
    return channel.executor(pool).offloadExecutor(pool);
  }

  /** A pool of {@link #THREADS} threads named {@code name}. */
  public static ExecutorService pool(String name) {
    return Threads.pool(name, THREADS);
  }
}
