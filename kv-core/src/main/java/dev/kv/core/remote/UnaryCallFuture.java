package dev.kv.core.remote;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The future answer of one unary call. Cancelling the future cancels the call, so that a caller who
 * gives up frees the server too.
 *
 * @param <ReqT> the request message
 * @param <RespT> the response message
 * @param <T> what the caller gets
 */
final class UnaryCallFuture<ReqT, RespT, T> extends CompletableFuture<T>
    implements ClientResponseObserver<ReqT, RespT> {

  /** Turns a failed call into an answer, or into the exception to fail with. */
  interface ErrorHandler<T> {
    T handle(StatusRuntimeException error) throws RuntimeException;
  }

  private final Function<RespT, T> onResponse;
  private final ErrorHandler<T> onError;
  private volatile ClientCallStreamObserver<ReqT> call;

  UnaryCallFuture(Function<RespT, T> onResponse, ErrorHandler<T> onError) {
    this.onResponse = onResponse;
    this.onError = onError;
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<ReqT> call) {
    this.call = call;
  }

  @Override
  public void onNext(RespT response) {
    complete(onResponse.apply(response));
  }

  @Override
  public void onError(Throwable error) {
    try {
      complete(onError.handle(asStatusException(error)));
    } catch (RuntimeException failure) {
      completeExceptionally(failure);
    }
  }

  @Override
  public void onCompleted() {}

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    boolean cancelled = super.cancel(mayInterruptIfRunning);
    ClientCallStreamObserver<ReqT> started = call;
    if (cancelled && started != null) {
      started.cancel("cancelled by the caller", null);
    }
    return cancelled;
  }

  private static StatusRuntimeException asStatusException(Throwable error) {
    return error instanceof StatusRuntimeException status
        ? status
        : io.grpc.Status.fromThrowable(error).asRuntimeException();
  }
}
