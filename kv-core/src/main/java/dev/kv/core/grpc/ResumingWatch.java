package dev.kv.core.grpc;

import dev.kv.core.KvException;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A watch that runs on one gRPC stream at a time. When a stream breaks, it opens a new one, after a
 * growing pause, from the revision after the last one it delivered: nothing is missed and nothing
 * delivered twice.
 *
 * @param <ReqT> the stream's request message
 */
public abstract class ResumingWatch<ReqT> implements Watch {

  private static final long MAX_PAUSE_MILLIS = 2_000;

  private final WatchListener listener;
  private final StoreConnection connection;

  /** Between a broken stream and the next one created; on the stream's callbacks only. */
  private boolean interrupted;

  private final CompletableFuture<Long> started = new CompletableFuture<>();
  private volatile long next;
  private volatile boolean ended;
  private volatile ClientCallStreamObserver<ReqT> stream;
  private int failures;

  /**
   * @param connection the connection of the store that makes this watch, which {@link
   *     StoreConnection#watch starts} it
   */
  protected ResumingWatch(long startRevision, WatchListener listener, StoreConnection connection) {
    this.next = startRevision;
    this.listener = listener;
    this.connection = connection;
  }

  /** Opens one stream that delivers from revision {@code from}, or from now when it is 0. */
  protected abstract void open(long from);

  /** Opens the first stream. */
  final void start() {
    if (!ended && !connection.closed()) {
      open(next);
    }
  }

  /**
   * The observer of one stream of this watch: the watch runs on that stream once it starts, each
   * answer goes to {@code onNext}, a failure to {@code onError}, and the watch is reopened when the
   * peer ends the stream.
   */
  protected final <RespT> ClientResponseObserver<ReqT, RespT> stream(
      Consumer<RespT> onNext, Consumer<Throwable> onError) {
    return new ClientResponseObserver<>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<ReqT> call) {
        attach(call);
      }

      @Override
      public void onNext(RespT response) {
        onNext.accept(response);
      }

      @Override
      public void onError(Throwable error) {
        onError.accept(error);
      }

      @Override
      public void onCompleted() {
        reopenLater();
      }
    };
  }

  private void attach(ClientCallStreamObserver<ReqT> call) {
    stream = call;
    if (ended) {
      call.cancel("the watch was closed", null);
    }
  }

  /**
   * The stream is in place and delivers from {@code firstRevision} when nothing came before. Not
   * progress: a stream reopened from an older revision replays what it missed after this.
   */
  protected final void created(long firstRevision) {
    failures = 0;
    if (interrupted) {
      interrupted = false;
      listener.onResumed();
    }
    if (next == 0) {
      next = firstRevision;
    }
    started.complete(next);
  }

  /** Nothing below {@code revision} is left to deliver. */
  protected final void progressed(long revision) {
    next = Math.max(next, revision + 1);
  }

  /** Hands {@code event} to the listener; false when the watch ended, the listener failing. */
  protected final boolean deliver(WatchEvent event) {
    if (ended) {
      return false;
    }
    try {
      listener.onEvent(event);
      return true;
    } catch (RuntimeException e) {
      end(new KvException(KvException.Code.INTERNAL, "the watch listener failed: " + e, e));
      return false;
    }
  }

  /** Whether the watch ended, by a close or an error. */
  protected final boolean ended() {
    return ended;
  }

  /** The stream broke: open another one, after a pause that grows with each failure in a row. */
  protected final void reopenLater() {
    if (ended) {
      return;
    }
    if (connection.closed()) {
      return;
    }
    connection.reconnectSoon();
    if (!interrupted) {
      interrupted = true;
      listener.onInterrupted();
    }
    long pause = Math.min(MAX_PAUSE_MILLIS, 100L << Math.min(failures++, 5));
    // On the JDK's one timer thread: opening a stream never blocks, and the default executor starts
    // a thread per task on machines with two processors or fewer, for every watch at once.
    CompletableFuture.delayedExecutor(pause, TimeUnit.MILLISECONDS, Runnable::run)
        .execute(this::start);
  }

  /** Ends the watch with {@code error}, told to the listener once. */
  public final void end(KvException error) {
    if (!ended) {
      // Before close(), which cancels a start still pending: the error is what it ended with.
      started.completeExceptionally(error);
      close();
      listener.onError(error);
    }
  }

  @Override
  public final CompletableFuture<Long> started() {
    return started;
  }

  @Override
  public final void close() {
    if (ended) {
      return;
    }
    ended = true;
    connection.forget(this);
    started.cancel(false);
    ClientCallStreamObserver<ReqT> open = stream;
    if (open != null) {
      open.cancel("the watch was closed", null);
    }
  }
}
