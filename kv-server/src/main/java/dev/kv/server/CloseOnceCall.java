package dev.kv.server;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;

/**
 * A call that more than one party may end, each on its own thread: the service, and whoever ends
 * calls from outside it. The first to close it does; what anyone sends after that goes nowhere,
 * where the call itself would throw.
 */
class CloseOnceCall<ReqT, RespT> extends SimpleForwardingServerCall<ReqT, RespT> {

  private boolean closed;

  CloseOnceCall(ServerCall<ReqT, RespT> call) {
    super(call);
  }

  /**
   * Ends the call with {@code status}, unless it has ended.
   *
   * @return whether this ended it
   */
  synchronized boolean closeIfOpen(Status status) {
    if (closed) {
      return false;
    }
    close(status, new Metadata());
    return true;
  }

  synchronized boolean isClosed() {
    return closed;
  }

  @Override
  public synchronized void sendHeaders(Metadata headers) {
    if (!closed) {
      super.sendHeaders(headers);
    }
  }

  @Override
  public synchronized void sendMessage(RespT message) {
    if (!closed) {
      super.sendMessage(message);
    }
  }

  @Override
  public synchronized void close(Status status, Metadata trailers) {
    if (!closed) {
      closed = true;
      super.close(status, trailers);
    }
  }
}
