package dev.kv.core.local;

import dev.kv.core.KvException;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * The open watches of a store that lives in this process. The store publishes each change once it
 * is applied; every watch gets the changes it covers in order, one at a time, on a delivery thread,
 * so that a slow listener never holds up the store's writer.
 *
 * <p>The store keeps publishing and opening watches from racing, so that a watch that starts in the
 * past gets each change exactly once: from its history or from a publication.
 */
public final class LocalWatches {

  private final List<LocalWatch> open = new CopyOnWriteArrayList<>();
  private final ExecutorService deliveries;

  /** Watches delivered by daemon threads named {@code threadName}. */
  public LocalWatches(String threadName) {
    this.deliveries = Executors.newCachedThreadPool(Threads.daemon(threadName));
  }

  /**
   * Opens a watch that gets the changes in {@code past} it covers (those already applied from its
   * start revision on), then every covered change published after.
   *
   * @param firstRevision the first revision the watch may deliver, which {@link Watch#started()}
   *     answers
   */
  public Watch open(
      WatchQuery query, WatchListener listener, long firstRevision, Stream<WatchEvent> past) {
    LocalWatch watch = new LocalWatch(query, listener, firstRevision);
    past.forEach(watch::offer);
    open.add(watch);
    return watch;
  }

  /** A watch that ends at once with {@code error}. */
  public Watch failed(WatchQuery query, WatchListener listener, KvException error) {
    LocalWatch watch = new LocalWatch(query, listener, query.startRevision());
    watch.fail(error);
    return watch;
  }

  /** Hands {@code event} to every watch that covers its key. */
  public void publish(WatchEvent event) {
    for (LocalWatch watch : open) {
      watch.offer(event);
    }
  }

  /** Ends every watch with {@code error}, after what each still had to deliver. */
  public void close(KvException error) {
    open.forEach(watch -> watch.fail(error));
    open.clear();
    deliveries.shutdown();
  }

  /** One watch: a queue of deliveries that one delivery thread at a time drains. */
  private final class LocalWatch implements Watch {
    final WatchQuery query;
    final WatchListener listener;
    final long firstRevision;
    final Queue<Runnable> pending = new ConcurrentLinkedQueue<>();
    final AtomicBoolean draining = new AtomicBoolean();
    volatile boolean closed;

    LocalWatch(WatchQuery query, WatchListener listener, long firstRevision) {
      this.query = query;
      this.listener = listener;
      this.firstRevision = firstRevision;
    }

    void offer(WatchEvent event) {
      // A change published after the watch opened may still be older than its start.
      if (event.revision() < firstRevision || !query.covers(event.entry().key())) {
        return;
      }
      run(
          () -> {
            try {
              listener.onEvent(event);
            } catch (RuntimeException e) {
              close();
              listener.onError(
                  new KvException(KvException.Code.INTERNAL, "the watch listener failed: " + e, e));
            }
          });
    }

    /** Ends the watch with {@code error}, after what it still had to deliver. */
    void fail(KvException error) {
      run(
          () -> {
            closed = true;
            listener.onError(error);
          });
    }

    /** Opened while no change was being published: started at once. */
    @Override
    public CompletableFuture<Long> started() {
      return CompletableFuture.completedFuture(firstRevision);
    }

    private void run(Runnable delivery) {
      pending.add(delivery);
      if (draining.compareAndSet(false, true)) {
        try {
          deliveries.execute(this::drain);
        } catch (RejectedExecutionException storeClosed) {
          drain();
        }
      }
    }

    private void drain() {
      do {
        try {
          for (Runnable delivery = pending.poll(); delivery != null; delivery = pending.poll()) {
            if (!closed) {
              delivery.run();
            }
          }
        } finally {
          draining.set(false);
        }
      } while (!pending.isEmpty() && draining.compareAndSet(false, true));
    }

    @Override
    public void close() {
      closed = true;
      open.remove(this);
      pending.clear();
    }
  }
}
