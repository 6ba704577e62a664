package dev.kv.server;

import static org.awaitility.Awaitility.await;

import dev.kv.core.Deleted;
import dev.kv.core.KeyValue;
import dev.kv.core.KvStore;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.ReadConsistency;
import dev.kv.core.Swap;
import dev.kv.core.Watch;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.memory.MemoryStore;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A memory store whose reads of the key "stall" never answer, to hold calls in progress, whose
 * writes of the key "no-memory" find none, and which counts its open watches, to show that the
 * server lets go of them.
 */
final class StallingStore implements KvStore {
  private final MemoryStore memory = new MemoryStore();
  private final List<CompletableFuture<?>> stalled = new CopyOnWriteArrayList<>();
  private final AtomicInteger openWatches = new AtomicInteger();

  void awaitStalled(int count) {
    await().atMost(30, TimeUnit.SECONDS).until(() -> stalled.size() >= count);
  }

  /** The reads held so far; the server cancels one whose call ends without its answer. */
  List<CompletableFuture<?>> stalled() {
    return List.copyOf(stalled);
  }

  int openWatches() {
    return openWatches.get();
  }

  @Override
  public CompletableFuture<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
    if (key.equals("stall")) {
      CompletableFuture<Optional<KeyValue>> never = new CompletableFuture<>();
      stalled.add(never);
      return never;
    }
    return memory.get(key, consistency);
  }

  @Override
  public CompletableFuture<Long> set(String key, String value, Duration ttl) {
    if (key.equals("no-memory")) {
      throw new OutOfMemoryError("Java heap space (as the test asks)");
    }
    return memory.set(key, value, ttl);
  }

  @Override
  public CompletableFuture<Swap> setIf(
      String key, String value, long expectedModRevision, Duration ttl) {
    return memory.setIf(key, value, expectedModRevision, ttl);
  }

  @Override
  public CompletableFuture<Swap> deleteIf(String key, long expectedModRevision) {
    return memory.deleteIf(key, expectedModRevision);
  }

  @Override
  public CompletableFuture<Deleted> delete(String key) {
    return memory.delete(key);
  }

  @Override
  public CompletableFuture<Deleted> deletePrefix(String prefix) {
    return memory.deletePrefix(prefix);
  }

  @Override
  public CompletableFuture<Page> list(ListQuery query) {
    return memory.list(query);
  }

  @Override
  public Watch watch(WatchQuery query, WatchListener listener) {
    Watch watch = memory.watch(query, listener);
    openWatches.incrementAndGet();
    AtomicBoolean closed = new AtomicBoolean();
    return new Watch() {
      @Override
      public CompletableFuture<Long> started() {
        return watch.started();
      }

      @Override
      public void close() {
        if (closed.compareAndSet(false, true)) {
          openWatches.decrementAndGet();
        }
        watch.close();
      }
    };
  }

  @Override
  public CompletableFuture<Void> checkHealth() {
    return memory.checkHealth();
  }

  @Override
  public void close() {
    stalled.forEach(future -> future.cancel(false));
    memory.close();
  }
}
