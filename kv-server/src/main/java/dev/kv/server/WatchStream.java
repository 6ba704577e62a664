package dev.kv.server;

import dev.kv.core.Watch;
import dev.kv.launch.Sizes;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;

/**
 * The answers of one watch on their way to a client that reads at its own pace. They wait here
 * until the network has sent what the watch handed it before, and the server's {@link WatchBudget}
 * has room for their copy on the way out. A watch whose client falls more than {@link
 * #MAX_BACKLOG_BYTES} behind is ended with {@code RESOURCE_EXHAUSTED}, naming the revision to watch
 * again from, after what the network already has; so is the one furthest behind when the answers
 * waiting for every watch reach the server's budget. Whatever it held is let go: a client that
 * stops reading costs the server a bounded amount of memory, and others nothing.
 *
 * <p>The first answer is always the watch's {@code created} message: a store may deliver events
 * before its watch's {@code started()} completes (a replay runs on the store's own thread), and
 * those wait here, within the same budgets, until {@link #created} sends them after it.
 */
final class WatchStream {

  /** How far behind one watch may fall, in bytes of answers waiting for its client. */
  static final long MAX_BACKLOG_BYTES = 4 << 20;

  /**
   * What one watch hands to the network before it has been sent: several small answers, or one
   * larger one alone.
   */
  static final long MAX_UNSENT_BYTES = 64 << 10;

  private final ServerCallStreamObserver<EncodedResponse> out;
  private final WatchBudget budget;
  private final WatchBudget.Connection connection;

  // Under this object's lock.
  private final ArrayDeque<EncodedResponse> pending = new ArrayDeque<>();

  /** Handed to the network and not yet seen sent; counted in the budget until it is. */
  private long sending;

  /** Bytes the budget took for the next answer while the watch waited for its turn. */
  private long granted;

  private boolean waitingForTurn;
  private Status closing;
  private boolean ended;

  /** Ended, and what it held given back: its turn, its store's watch. */
  private boolean woundDown;

  /** Over: what the network had of it given back too. */
  private boolean finished;

  private boolean awaitingCreated = true;
  private Watch watch;

  /** Written under this object's lock; read without it to choose a watch to evict. */
  private volatile long pendingBytes;

  /**
   * @param client the address of the client's connection, whose watches share its part of the
   *     budget
   */
  WatchStream(ServerCallStreamObserver<EncodedResponse> out, WatchBudget budget, Object client) {
    this.out = out;
    this.budget = budget;
    this.connection = budget.join(this, client);
    // isReady() then says whether all that was handed to the network was sent, and onReady comes
    // once it is: until then, it is counted.
    out.setOnReadyThreshold(1);
    out.setOnReadyHandler(this::drain);
    out.setOnCancelHandler(this::finish);
    out.setOnCloseHandler(this::finish);
  }

  long pendingBytes() {
    return pendingBytes;
  }

  /** The store's watch that feeds this stream, closed when the stream ends. */
  void feedFrom(Watch watch) {
    boolean woundDownAlready;
    synchronized (this) {
      this.watch = watch;
      woundDownAlready = woundDown;
    }
    if (woundDownAlready) {
      watch.close();
    }
  }

  /** Sends {@code answer} after those waiting; ends the watch if that takes it over a budget. */
  void send(EncodedResponse answer) {
    while (true) {
      synchronized (this) {
        if (ended || closing != null) {
          return;
        }
        // One answer alone always fits, whatever its size.
        if (!pending.isEmpty() && pendingBytes + answer.size() > MAX_BACKLOG_BYTES) {
          endNow(
              tooSlow(
                  resumeFrom(answer),
                  "it fell more than " + Sizes.format(MAX_BACKLOG_BYTES) + " behind"));
          break;
        }
        if (budget.hold(answer)) {
          pending.add(answer);
          pendingBytes += answer.size();
          break;
        }
      }
      // The server's budget is spent: the watch furthest behind gives way. When that is this one,
      // or none holds anything, this one ends. Outside this one's lock, so that two never wait for
      // each other.
      WatchStream furthest = budget.furthestBehind();
      if (furthest == null || furthest == this) {
        synchronized (this) {
          if (!ended) {
            endNow(tooSlow(resumeFrom(answer), serverBudgetSpent("")));
          }
        }
        break;
      }
      furthest.evict();
    }
    drain();
  }

  private long resumeFrom(EncodedResponse next) {
    return pending.isEmpty() ? next.revision() : pending.peek().revision();
  }

  private static String serverBudgetSpent(String andThen) {
    return "more than "
        + Sizes.format(WatchBudget.MAX_WAITING_BYTES)
        + " waits for the clients of this server's watches"
        + andThen;
  }

  private Status tooSlow(long resumeFrom, String why) {
    budget.metrics.watchEndedLagging();
    return Status.RESOURCE_EXHAUSTED.withDescription(
        "the client reads this watch too slowly: "
            + why
            + "; it was ended, watch again from revision "
            + resumeFrom);
  }

  /** Ends this watch to free the server's budget for others, if it holds anything. */
  private void evict() {
    synchronized (this) {
      if (ended || pending.isEmpty()) {
        return;
      }
      endNow(
          tooSlow(
              pending.peek().revision(),
              serverBudgetSpent(", and this one was the furthest behind")));
    }
    drain();
  }

  /**
   * Sends the watch's {@code created} message, then what the store delivered before it. It is
   * counted, but never refused: it is one small message per watch.
   */
  void created(EncodedResponse response) {
    synchronized (this) {
      if (ended || closing != null) {
        return;
      }
      awaitingCreated = false;
      budget.holdAnyway(response);
      pending.addFirst(response);
      pendingBytes += response.size();
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

  /** The budget took the bytes of this watch's next answer for it: its turn has come. */
  void granted(long bytes) {
    synchronized (this) {
      waitingForTurn = false;
      granted = bytes;
    }
    drain();
  }

  /**
   * Hands the network what waits, as far as this watch's share and the budget allow, and gives back
   * what it has finished with. Called whenever that may have changed, and never under this object's
   * lock: what it gives back may let other watches send, on this thread.
   */
  private void drain() {
    long sent = 0;
    boolean windDown;
    Watch stop;
    synchronized (this) {
      if (sending > 0 && out.isReady()) {
        sent = sending;
        sending = 0;
      }
      while (!ended && !awaitingCreated && !pending.isEmpty() && !waitingForTurn) {
        EncodedResponse next = pending.peek();
        if (sending > 0 && sending + next.size() > MAX_UNSENT_BYTES) {
          break; // until onReady: what was handed is sent
        }
        if (granted == 0 && !budget.reserve(this, connection, next.size())) {
          waitingForTurn = true;
          break;
        }
        granted = 0;
        pending.poll();
        pendingBytes -= next.size();
        budget.letGo(next);
        sending += next.size();
        out.onNext(next);
        if (next.isEvent()) {
          budget.metrics.eventSent();
        }
      }
      if (!ended && closing != null && (pending.isEmpty() || awaitingCreated)) {
        endNow(closing);
      }
      if (ended) {
        // A turn granted after the watch ended is not taken.
        sent += granted;
        granted = 0;
      }
      windDown = ended && !woundDown;
      woundDown |= ended;
      stop = windDown ? watch : null;
    }
    if (windDown) {
      budget.forget(this, connection);
    }
    if (sent > 0) {
      budget.release(connection, sent);
    }
    if (stop != null) {
      stop.close();
    }
  }

  /**
   * Ends the stream now with {@code status} (after what the network already has), letting go of
   * what waits; under this object's lock, and followed by {@link #drain}, which stops the store's
   * watch and gives back the rest once the lock is let go.
   */
  private void endNow(Status status) {
    ended = true;
    dropPending();
    if (!out.isCancelled()) {
      out.onError(status.asRuntimeException());
    }
  }

  /**
   * The call is over, cancelled or closed once its last word was sent: what the network had of it
   * is no longer held.
   */
  private void finish() {
    long sent;
    Watch stop;
    synchronized (this) {
      if (finished) {
        return;
      }
      finished = true;
      ended = true;
      dropPending();
      sent = sending + granted;
      sending = 0;
      granted = 0;
      stop = woundDown ? null : watch;
      woundDown = true;
    }
    budget.forget(this, connection);
    if (sent > 0) {
      budget.release(connection, sent);
    }
    budget.leave(this, connection);
    if (stop != null) {
      stop.close();
    }
  }

  private void dropPending() {
    for (EncodedResponse answer : pending) {
      budget.letGo(answer);
    }
    pending.clear();
    pendingBytes = 0;
  }
}
