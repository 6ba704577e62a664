package dev.kv.core.local;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** Thread factories and pools for the stores' own threads. */
public final class Threads {

  private Threads() {}

  /** Daemon threads named {@code name}, so that a store left open never keeps a JVM alive. */
  public static ThreadFactory daemon(String name) {
    return task -> {
      Thread thread = new Thread(task, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  /**
   * A pool of at most {@code threads} daemon threads named {@code name}, started as work comes and
   * ended after a minute without any; more work waits its turn rather than starting more threads.
   */
  public static ExecutorService pool(String name, int threads) {
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            threads, threads, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(), daemon(name));
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /** As many threads as the machine has processors, for work that never waits. */
  public static int processors() {
    return Runtime.getRuntime().availableProcessors();
  }
}
