package dev.kv.server;

import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.logging.Logger;

/**
 * Counts the bytes of each request in progress against {@link Limits#maxBytesInProgress()}, as they
 * arrive and then, for a compressed one, as it is inflated, and refuses the request that finds no
 * room with {@code RESOURCE_EXHAUSTED}. What it counted is given back when its call ends.
 *
 * <p>Without it, the limits on calls and on message size let a few clients make the server hold far
 * more than its memory: the transport keeps each message until it has arrived whole, taking it in
 * as fast as it comes (HTTP/2 flow control does not hold it back), so that slow, unfinished
 * messages fill the direct memory that every connection reads into; and a message of a few KiB can
 * inflate to the largest size.
 *
 * <p>A stream tracer, because it is told of each part of a message as the transport takes it in,
 * before any interceptor sees the message, and of the bytes inflated as they are read. A refusal is
 * thrown from there: the transport then ends the stream with the refusal's status, and a read of an
 * inflating message fails with it, which {@link CallFailureInterceptor} answers.
 */
final class BytesInProgress extends ServerStreamTracer.Factory {

  /**
   * The transport's logger, which warns with a stack trace of every stream ended by an exception
   * thrown while it reads: it is told to leave out refusals, which are answers, not faults. (Held
   * here, as a logger that nothing holds may be dropped, and its filter with it.)
   */
  private static final Logger TRANSPORT = Logger.getLogger("io.grpc.netty.NettyServerStream");

  static {
    TRANSPORT.setFilter(record -> !(record.getThrown() instanceof Refusal));
  }

  private final FairShares shares;
  private final Share server;

  private final ServerMetrics metrics;

  BytesInProgress(FairShares shares, ServerMetrics metrics) {
    this.shares = shares;
    this.metrics = metrics;
    this.server = shares.server().bytesInProgress();
  }

  @Override
  public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
    return new Counter();
  }

  /**
   * One stream's count. A message counts for the larger of its size as it arrived and its size
   * inflated; the next message of a stream replaces the one before, which the call has had.
   */
  private final class Counter extends ServerStreamTracer {
    /** The server's until the call's connection is known, which is before any message comes. */
    private Share share = server;

    private long arrived;
    private long inflated;
    private long held;
    private boolean closed;

    @Override
    public synchronized void serverCallStarted(ServerCallInfo<?, ?> callInfo) {
      if (held == 0) {
        share = shares.of(callInfo.getAttributes()).bytesInProgress();
      }
    }

    @Override
    public synchronized void inboundMessage(int seqNo) {
      share.giveBack(held);
      held = 0;
      arrived = 0;
      inflated = 0;
    }

    @Override
    public synchronized void inboundWireSize(long bytes) {
      arrived += bytes;
      hold(Math.max(arrived, inflated));
    }

    @Override
    public synchronized void inboundUncompressedSize(long bytes) {
      inflated += bytes;
      hold(Math.max(arrived, inflated));
    }

    @Override
    public synchronized void streamClosed(Status status) {
      share.giveBack(held);
      held = 0;
      closed = true;
    }

    private void hold(long bytes) {
      if (closed) {
        // A compressed message still read after its call ended: nothing would give it back.
        throw Status.CANCELLED.withDescription("the call ended").asRuntimeException();
      }
      if (bytes <= held) {
        return;
      }
      String refusal = share.take(bytes - held);
      if (refusal != null) {
        metrics.refused(ServerMetrics.Limit.BYTES_IN_PROGRESS);
        throw new Refusal(refusal);
      }
      held = bytes;
    }
  }

  /** A request refused for want of room, as the client is told; the stack says nothing more. */
  private static final class Refusal extends StatusRuntimeException {
    Refusal(String description) {
      super(Status.RESOURCE_EXHAUSTED.withDescription(description));
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }
}
