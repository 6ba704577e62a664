package dev.kv.core.grpc;

import dev.kv.core.KvException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The running watches of one store, so that closing the store ends them all. */
final class WatchRegistry {

  private final String storeName;
  private final Set<ResumingWatch<?>> running = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * @param storeName how errors name the store, such as {@code etcd at http://127.0.0.1:2379}
   */
  WatchRegistry(String storeName) {
    this.storeName = storeName;
  }

  /** Starts {@code watch}, or ends it at once with UNAVAILABLE when the store is closed. */
  <W extends ResumingWatch<?>> W start(W watch) {
    if (closed) {
      watch.end(closedError());
    } else {
      running.add(watch);
      watch.start();
    }
    return watch;
  }

  /** Whether the store was closed. */
  boolean closed() {
    return closed;
  }

  void forget(ResumingWatch<?> watch) {
    running.remove(watch);
  }

  /** Ends every running watch with UNAVAILABLE; no watch starts afterwards. */
  void closeAll() {
    closed = true;
    for (ResumingWatch<?> watch : List.copyOf(running)) {
      watch.end(closedError());
    }
  }

  private KvException closedError() {
    return new KvException(KvException.Code.UNAVAILABLE, storeName + ": the store was closed");
  }
}
