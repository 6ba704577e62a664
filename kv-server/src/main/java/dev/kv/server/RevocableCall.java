package dev.kv.server;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.ServerCall;
import io.grpc.Status;

/**
 * A call that the server may end from outside its service, as when the token it was made with is
 * revoked. The client gets the status at once; the service, and the interceptors between it and
 * this call, see the call cancelled, as if the client had gone away, and let go of what it held:
 * the store's work, a watch, a place among the calls in progress. Until they see it, what the
 * service still sends goes nowhere.
 */
final class RevocableCall<ReqT, RespT> extends CloseOnceCall<ReqT, RespT> {

  /** The SHA-256 digest of the token the call was made with. */
  final byte[] token;

  private volatile boolean revoked;

  RevocableCall(ServerCall<ReqT, RespT> call, byte[] token) {
    super(call);
    this.token = token;
  }

  /**
   * Ends the call with {@code status} unless it ended already.
   *
   * @return whether it was in progress
   */
  synchronized boolean revoke(Status status) {
    if (isClosed()) {
      return false;
    }
    // Before the status goes out: the transport may complete the call before closeIfOpen returns.
    revoked = true;
    return closeIfOpen(status);
  }

  /**
   * {@code listener}, which hears of the call's end as a cancellation if it was revoked, and then
   * of nothing more from the client.
   *
   * @param ended runs once the call has ended, either way
   */
  ServerCall.Listener<ReqT> listen(ServerCall.Listener<ReqT> listener, Runnable ended) {
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(ReqT message) {
        if (!revoked) {
          super.onMessage(message);
        }
      }

      @Override
      public void onHalfClose() {
        if (!revoked) {
          super.onHalfClose();
        }
      }

      @Override
      public void onComplete() {
        ended.run();
        // The transport completes the call once the revocation's status is sent: to those that
        // did not end it, the call was cancelled.
        if (revoked) {
          super.onCancel();
        } else {
          super.onComplete();
        }
      }

      @Override
      public void onCancel() {
        ended.run();
        super.onCancel();
      }
    };
  }

  @Override
  public boolean isCancelled() {
    return revoked || super.isCancelled();
  }
}
