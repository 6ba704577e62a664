package dev.kv.server;

import com.google.protobuf.ByteString;
import dev.kv.api.SnapshotChunk;
import dev.kv.core.KvException;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.config.Durations;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The stream a store writes its snapshot to, sent to the client as Snapshot's chunks. A write that
 * fills a chunk waits, on the store's snapshot thread, until the call can take one more: a client
 * that reads slowly slows the store down rather than fill the server's memory, which holds a chunk
 * or two of each snapshot. Once the client has gone, writes fail, and the store stops.
 */
final class SnapshotChunks extends OutputStream {

  /** Large enough to cost little per message, small enough to hold a few per snapshot. */
  static final int CHUNK_BYTES = 256 << 10;

  /**
   * How long a client may read nothing before the snapshot is given up: a client stopped (a
   * suspended kv, say) would otherwise hold the store's snapshot thread, and its checkpoint's disk
   * space, for as long as its connection lives.
   */
  static final Duration STALL = Duration.ofMinutes(2);

  private final ServerCallStreamObserver<SnapshotChunk> call;
  private final long stallNanos;
  private final byte[] buffer = new byte[CHUNK_BYTES];
  private int buffered;
  private long sent;

  /** Guarded by this, as the network threads set it and wake the writer. */
  private boolean cancelled;

  /** Why the snapshot was given up on a client that read nothing, or null; guarded by this. */
  private String stalled;

  /** Must be made on the call's thread, before the service method returns. */
  SnapshotChunks(ServerCallStreamObserver<SnapshotChunk> call) {
    this(call, STALL);
  }

  SnapshotChunks(ServerCallStreamObserver<SnapshotChunk> call, Duration stall) {
    this.call = call;
    this.stallNanos = stall.toNanos();
    call.setOnReadyHandler(this::wake);
    call.setOnCancelHandler(
        () -> {
          synchronized (this) {
            cancelled = true;
            notifyAll();
          }
        });
  }

  private synchronized void wake() {
    notifyAll();
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] bytes, int from, int length) throws IOException {
    while (length > 0) {
      int taken = Math.min(length, CHUNK_BYTES - buffered);
      System.arraycopy(bytes, from, buffer, buffered, taken);
      buffered += taken;
      from += taken;
      length -= taken;
      if (buffered == CHUNK_BYTES) {
        awaitReady();
        sendBuffered();
      }
    }
  }

  /** Full chunks only are sent as the store writes: {@link #finish} sends the rest. */
  @Override
  public void flush() {}

  private synchronized void awaitReady() throws IOException {
    long deadline = System.nanoTime() + stallNanos;
    try {
      while (!cancelled && !call.isReady()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          stalled =
              "the client read nothing of the snapshot for "
                  + Durations.format(Duration.ofNanos(stallNanos));
          throw new IOException(stalled);
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("the snapshot was interrupted");
    }
    if (cancelled) {
      throw new IOException("the client cancelled the snapshot");
    }
  }

  private void sendBuffered() {
    if (buffered > 0) {
      call.onNext(
          SnapshotChunk.newBuilder().setData(ByteString.copyFrom(buffer, 0, buffered)).build());
      sent += buffered;
      buffered = 0;
    }
  }

  /**
   * Sends what is left, then the last message, which says what the file is.
   *
   * @throws KvException when the store says it wrote another size than it did
   */
  void finish(SnapshotInfo info) {
    sendBuffered();
    if (sent != info.bytes()) {
      throw new KvException(
          KvException.Code.INTERNAL,
          "the store wrote a snapshot of " + sent + " bytes, and says it is " + info.bytes());
    }
    call.onNext(
        SnapshotChunk.newBuilder()
            .setFormat(info.format())
            .setRevision(info.revision())
            .setSize(info.bytes())
            .build());
    call.onCompleted();
  }

  /** Ends the call with {@code status}, unless the client has gone already. */
  synchronized void fail(Throwable error, Function<Throwable, Status> statusOf) {
    if (cancelled) {
      return; // the client went away: there is no one to tell, and nothing went wrong
    }
    Status status =
        stalled != null ? Status.DEADLINE_EXCEEDED.withDescription(stalled) : statusOf.apply(error);
    call.onError(status.asRuntimeException());
  }
}
