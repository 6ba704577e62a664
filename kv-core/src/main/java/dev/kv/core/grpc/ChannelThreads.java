package dev.kv.core.grpc;

import dev.kv.core.local.Threads;
import io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;

/**
 * The threads a store's channel runs its work on. Callbacks only complete futures, which does not
 * block: they run on the network threads, unless an embedder whose stages block gives an executor.
 * Blocking work (name resolution), and a remote store's watch listeners, run on a bounded pool of
 * the store's own, rather than gRPC's default one, which starts a thread for each task that finds
 * the others busy, without end. The pool's threads end once idle: it needs no shutting down.
 */
public final class ChannelThreads {

  /** Enough for callbacks that block now and then, as a watch listener that writes out may. */
  public static final int THREADS = Math.max(4, 2 * Threads.processors());

  private ChannelThreads() {}

  /**
   * {@code channel}, with {@code pool} for its blocking work, and its callbacks on {@code
   * callbacks}, or on its network threads when that is null.
   */
  public static NettyChannelBuilder of(
      NettyChannelBuilder channel, ExecutorService pool, Executor callbacks) {
    channel.offloadExecutor(pool);
    return callbacks == null ? channel.directExecutor() : channel.executor(callbacks);
  }

  /** A pool of {@link #THREADS} threads named {@code name}. */
  public static ExecutorService pool(String name) {
    return Threads.pool(name, THREADS);
  }
}
