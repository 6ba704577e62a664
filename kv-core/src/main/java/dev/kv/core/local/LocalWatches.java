package dev.kv.core.local;

import dev.kv.core.KvException;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The open watches of a store that lives in this process. The store publishes each change once it
 * is applied; every watch gets the changes it covers in order, one at a time, on one of a few
 * delivery threads (as many as processors, whatever the number of watches), so that a slow listener
 * never holds up the store's writer.
 *
 * <p>What a watch holds for its listener is bounded: one that falls more than {@link
 * #MAX_QUEUED_BYTES} behind is ended, after the changes it holds, with {@link
 * KvException.Code#RESOURCE_EXHAUSTED} naming the revision to watch again from. A change is shared
 * by every watch it goes to, never copied.
 *
 * <p>The store keeps publishing and opening watches from racing, so that a watch that starts in the
 * past gets each change exactly once: from its history or from a publication.
 */
public final class LocalWatches {

  /**
   * How far one watch may fall behind its listener, in bytes of the keys and values it holds: room
   * for several of the largest values kv-server accepts.
   */
  public static final long MAX_QUEUED_BYTES = 8 << 20;

  /** What one waiting change costs beyond its key and value. */
  private static final int OVERHEAD_BYTES = 64;

  /** Changes one watch delivers before the others waiting for a thread have their turn. */
  private static final int DELIVERIES_PER_TURN = 256;

  private final List<LocalWatch> open = new CopyOnWriteArrayList<>();
  private final ExecutorService deliveries;
  private final long maxQueuedBytes;

  /** Watches delivered by daemon threads named {@code threadName}, one per processor at most. */
  public LocalWatches(String threadName) {
    this(threadName, Threads.processors(), MAX_QUEUED_BYTES);
  }

  LocalWatches(String threadName, int threads, long maxQueuedBytes) {
    this.deliveries = Threads.pool(threadName, threads);
    this.maxQueuedBytes = maxQueuedBytes;
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
    if (watch.takesMore()) {
      open.add(watch);
    }
    return watch;
  }

  /**
   * Opens a watch from where {@code query} starts. One that starts now gets every covered change
   * after {@code revision}; one that starts in the past gets what {@code history} kept from its
   * start on, then every covered change published after. It fails with {@link
   * KvException.Code#OUT_OF_RANGE} when the history no longer keeps its start, and with the error
   * of a history that cannot be read.
   *
   * @param revision the last revision published; the store publishes none until this returns
   * @param history what the store kept up to {@code revision}, asked only for a watch that starts
   *     in the past, and closed once read
   */
  public Watch open(
      WatchQuery query,
      WatchListener listener,
      long revision,
      Supplier<? extends History> history) {
    long start = query.startRevision();
    if (start == 0) {
      return open(query, listener, revision + 1, Stream.empty());
    }
    try (History past = history.get()) {
      long kept = past.firstKept();
      if (start < kept) {
        return failed(
            query,
            listener,
            new KvException(
                KvException.Code.OUT_OF_RANGE,
                "revision " + start + " is no longer kept; the oldest available is " + kept));
      }
      return open(query, listener, start, past.since(start, query));
    } catch (KvException e) {
      return failed(query, listener, e);
    }
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

  private static long cost(WatchEvent event) {
    return event.entry().key().length() + event.entry().value().length() + OVERHEAD_BYTES;
  }

  /** One watch: the changes waiting for its listener, which one delivery thread at a time takes. */
  private final class LocalWatch implements Watch {
    final WatchQuery query;
    final WatchListener listener;
    final long firstRevision;

    // Under this watch's lock.
    private final ArrayDeque<WatchEvent> queued = new ArrayDeque<>();
    private long queuedBytes;

    /** What the watch ends with once the changes before it are delivered; under the lock. */
    private KvException ending;

    /** Whether the watch has a delivery thread, or waits for one; under the lock. */
    private boolean scheduled;

    /** No more deliveries: closed, or its error delivered. */
    private volatile boolean closed;

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
      boolean deliverHere;
      synchronized (this) {
        if (closed || ending != null) {
          return;
        }
        long cost = cost(event);
        WatchEvent last = queued.peekLast();
        // A revision's changes stay together, so that the watch resumes from one it got none of.
        if (last != null
            && last.revision() != event.revision()
            && queuedBytes + cost > maxQueuedBytes) {
          ending = fellBehind(event.revision());
          open.remove(this);
        } else {
          queued.add(event);
          queuedBytes += cost;
        }
        deliverHere = schedule();
      }
      if (deliverHere) {
        deliver();
      }
    }

    private KvException fellBehind(long resumeFrom) {
      return new KvException(
          KvException.Code.RESOURCE_EXHAUSTED,
          "the watch fell more than "
              + (maxQueuedBytes >> 20)
              + "MiB"
              + " behind: changes came faster than its listener took them; it was ended, watch"
              + " again from revision "
              + resumeFrom);
    }

    /** Ends the watch with {@code error}, after what it still had to deliver. */
    void fail(KvException error) {
      boolean deliverHere;
      synchronized (this) {
        if (closed || ending != null) {
          return;
        }
        ending = error;
        deliverHere = schedule();
      }
      if (deliverHere) {
        deliver();
      }
    }

    /** Whether the watch takes more changes: it neither ends nor was closed. */
    synchronized boolean takesMore() {
      return !closed && ending == null;
    }

    /**
     * Gives the watch a turn on a delivery thread unless it has one; under the lock. True when the
     * threads are gone (the store closed): the caller delivers, once it no longer holds the lock.
     */
    private boolean schedule() {
      if (scheduled) {
        return false;
      }
      scheduled = true;
      try {
        deliveries.execute(this::deliver);
        return false;
      } catch (RejectedExecutionException storeClosed) {
        return true;
      }
    }

    /** Delivers what waits, a turn's worth at a time, then lets the watch go until more comes. */
    private void deliver() {
      while (true) {
        for (int delivered = 0; delivered < DELIVERIES_PER_TURN; delivered++) {
          WatchEvent event;
          KvException error = null;
          synchronized (this) {
            event = queued.poll();
            if (event != null) {
              queuedBytes -= cost(event);
            } else if (ending != null && !closed) {
              error = ending;
              closed = true;
            } else {
              scheduled = false;
              return;
            }
          }
          if (error != null) {
            open.remove(this);
            listener.onError(error);
            return;
          }
          if (!closed && !deliverOne(event)) {
            return;
          }
        }
        synchronized (this) {
          // Its turn is over: to the back of the line, or on here if the threads are gone.
          scheduled = false;
          if (!schedule()) {
            return;
          }
        }
      }
    }

    /**
     * Hands {@code event} to the listener; false when the listener failed, which ends the watch.
     */
    private boolean deliverOne(WatchEvent event) {
      try {
        listener.onEvent(event);
        return true;
      } catch (RuntimeException e) {
        close();
        listener.onError(
            new KvException(KvException.Code.INTERNAL, "the watch listener failed: " + e, e));
        return false;
      }
    }

    /** Opened while no change was being published: started at once. */
    @Override
    public CompletableFuture<Long> started() {
      return CompletableFuture.completedFuture(firstRevision);
    }

    @Override
    public void close() {
      closed = true;
      open.remove(this);
      synchronized (this) {
        queued.clear();
        queuedBytes = 0;
      }
    }
  }
}
