package dev.kv.server;

import dev.kv.api.WatchResponse;
import dev.kv.core.Watch;
import dev.kv.core.config.Sizes;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The answers of one watch on their way to a client that reads at its own pace. They go to the
 * transport only while it is ready for more; meanwhile they wait here, within a budget per watch
 * and one shared by every watch of the server. A watch whose client falls behind either is ended
 * with {@code RESOURCE_EXHAUSTED}, naming the revision to watch again from, and everything it held
 * is let go: a client that stops reading costs the server a bounded amount of memory.
 *
 * <p>The first answer is always the watch's {@code created} message: a store may deliver events
 * before its watch's {@code started()} completes (a replay runs on the store's own thread), and
 * those wait here, within the same budgets, until {@link #created} sends them after it.
 */
final class WatchStream {

  /** How far behind one watch may fall, in bytes of answers waiting for its client. */
  static final long MAX_BACKLOG_BYTES = 4 << 20;

  /** How much every watch together may hold for clients that read slowly. */
  static final long MAX_SERVER_BACKLOG_BYTES = 32 << 20;

  /** The bytes waiting in every watch of one server, and those watches. */
  static final class Budget {
    private final AtomicLong used = new AtomicLong();
    private final Set<WatchStream> streams = ConcurrentHashMap.newKeySet();

    /** The watch with the most bytes waiting, or null for none. */
    WatchStream furthestBehind() {
      WatchStream furthest = null;
      for (WatchStream stream : streams) {
        if (furthest == null || stream.pendingBytes > furthest.pendingBytes) {
          furthest = stream;
        }
      }
      return furthest;
    }

    boolean reserve(long bytes) {
      while (true) {
        long now = used.get();
        if (now + bytes > MAX_SERVER_BACKLOG_BYTES) {
          return false;
        }
        if (used.compareAndSet(now, now + bytes)) {
          return true;
        }
      }
    }

    void release(long bytes) {
      used.addAndGet(-bytes);
    }
  }

  private record Pending(WatchResponse response, long revision, int size) {}

  private final ServerCallStreamObserver<WatchResponse> out;
  private final Budget budget;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();

  /** Written under this object's lock; read without it to choose a watch to evict. */
  private volatile long pendingBytes;

  private Status closing;
  private boolean ended;
  private boolean awaitingCreated = true;
  private Watch watch;

  WatchStream(ServerCallStreamObserver<WatchResponse> out, Budget budget) {
    this.out = out;
    this.budget = budget;
    out.setOnReadyHandler(this::drain);
    out.setOnCancelHandler(this::cancelled);
    budget.streams.add(this);
  }

  /** The store's watch that feeds this stream, closed when the stream ends. */
  void feedFrom(Watch watch) {
    boolean endedAlready;
    synchronized (this) {
      this.watch = watch;
      endedAlready = ended;
    }
    if (endedAlready) {
      watch.close();
    }
  }

  /**
   * Sends {@code response} now if the transport takes it, or keeps it for later; ends the watch if
   * that would take it over its budget.
   *
   * @param revision the revision of the event, from which the client may watch again
   */
  void send(WatchResponse response, long revision) {
    for (boolean retried = false; ; retried = true) {
      Watch stopped = null;
      boolean finished;
      synchronized (this) {
        if (ended || closing != null) {
          return;
        }
        if (!awaitingCreated && pending.isEmpty() && out.isReady()) {
          out.onNext(response);
          return;
        }
        int size = response.getSerializedSize();
        boolean overOwn = pendingBytes + size > MAX_BACKLOG_BYTES;
        if (!overOwn && budget.reserve(size)) {
          pending.add(new Pending(response, revision, size));
          pendingBytes += size;
          return;
        }
        finished = overOwn || retried;
        if (finished) {
          stopped =
              end(
                  tooSlow(
                      pending.isEmpty() ? revision : pending.peek().revision(),
                      overOwn
                          ? "it fell more than " + Sizes.format(MAX_BACKLOG_BYTES) + " behind"
                          : "more than "
                              + Sizes.format(MAX_SERVER_BACKLOG_BYTES)
                              + " waits for the clients of this server's watches"));
        }
      }
      if (finished) {
        stop(stopped);
        return;
      }
      // The server's budget is spent: the watch furthest behind gives way, and if that is another
      // one, this one tries again. Outside this one's lock, so that two never wait for each other.
      WatchStream furthest = budget.furthestBehind();
      if (furthest != null && furthest != this) {
        furthest.evict();
      }
    }
  }

  private static Status tooSlow(long resumeFrom, String why) {
    return Status.RESOURCE_EXHAUSTED.withDescription(
        "the client reads this watch too slowly: "
            + why
            + "; it was ended, watch again from revision "
            + resumeFrom);
  }

  /** Ends this watch to free the server's budget for others, if it holds anything. */
  private void evict() {
    Watch stopped;
    synchronized (this) {
      if (ended || pending.isEmpty()) {
        return;
      }
      stopped =
          end(
              tooSlow(
                  pending.peek().revision(),
                  "more than "
                      + Sizes.format(MAX_SERVER_BACKLOG_BYTES)
                      + " waits for the clients of this server's watches, and this one was the"
                      + " furthest behind"));
    }
    stop(stopped);
  }

  /**
   * Sends the watch's {@code created} message, then what the store delivered before it. It costs no
   * budget: it is one small message per watch.
   *
   * @param revision the first revision the watch delivers, from which the client may watch again
   */
  void created(WatchResponse response, long revision) {
    synchronized (this) {
      if (ended || closing != null) {
        return;
      }
      awaitingCreated = false;
      pending.addFirst(new Pending(response, revision, 0));
    }
    drain();
  }

  /**
   * Ends the stream with {@code status} once what waits is sent, as its last word. Before the
   * {@code created} message nothing waiting is sent: the client never heard of this watch, and the
   * status alone tells it what happened.
   */
  void close(Status status) {
    synchronized (this) {
      if (ended || closing != null) {
        return;
      }
      closing = status;
    }
    drain();
  }

  private void drain() {
    Watch stopped = null;
    synchronized (this) {
      while (!ended && !awaitingCreated && !pending.isEmpty() && out.isReady()) {
        Pending next = pending.poll();
        pendingBytes -= next.size();
        budget.release(next.size());
        out.onNext(next.response());
      }
      if (!ended && closing != null && (pending.isEmpty() || awaitingCreated)) {
        stopped = end(closing);
      }
    }
    stop(stopped);
  }

  /**
   * Ends the stream now, letting go of what waits; returns the store's watch to stop, which the
   * caller closes once it no longer holds this object's lock (the store may be calling in).
   */
  private Watch end(Status status) {
    ended = true;
    release();
    if (!out.isCancelled()) {
      out.onError(status.asRuntimeException());
    }
    return watch;
  }

  private void cancelled() {
    Watch stopped;
    synchronized (this) {
      ended = true;
      release();
      stopped = watch;
    }
    stop(stopped);
  }

  private static void stop(Watch watch) {
    if (watch != null) {
      watch.close();
    }
  }

  private void release() {
    budget.streams.remove(this);
    budget.release(pendingBytes);
    pending.clear();
    pendingBytes = 0;
  }
}
