package dev.kv.core.local;

import java.util.concurrent.ThreadFactory;

/** Thread factories for the stores' own threads. */
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
}
