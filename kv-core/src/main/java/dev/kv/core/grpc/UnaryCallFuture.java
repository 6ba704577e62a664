package dev.kv.core.grpc;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The future answer of one unary call. Cancelling the future cancels the call, so that a caller who
 * gives up frees the server too.
 *
 * @param <ReqT> the request message
 * @param <RespT> the response message
 * @param <T> what the caller gets
 */
public final class UnaryCallFuture<ReqT, RespT, T> extends CompletableFuture<T>
    implements ClientResponseObserver<ReqT, RespT> {

  /** Turns a failed call into an answer, or into the exception to fail with. */
  public interface ErrorHandler<T> {
    T handle(StatusRuntimeException error) throws RuntimeException;
  }

  private final Function<RespT, T> onResponse;
  private final ErrorHandler<T> onError;
  private volatile ClientCallStreamObserver<ReqT> call;

  private UnaryCallFuture(Function<RespT, T> onResponse, ErrorHandler<T> onError) {
    this.onResponse = onResponse;
    this.onError = onError;
  }

  /**
   * Starts one call and returns its future answer. A request that cannot be built (its {@code
   * request} supplier throws, for example a {@link dev.kv.core.KvException} for an empty key) fails
   * the future instead of reaching the server.
   *
   * @param send starts the call on a stub, such as {@code (req, observer) -> stub.get(req,
   *     observer)}
   */
  public static <ReqT, RespT, T> CompletableFuture<T> start(
      Supplier<ReqT> request,
      BiConsumer<ReqT, StreamObserver<RespT>> send,
      Function<RespT, T> onResponse,
      ErrorHandler<T> onError) {
    UnaryCallFuture<ReqT, RespT, T> answer = new UnaryCallFuture<>(onResponse, onError);
    try {
      send.accept(request.get(), answer);
    } catch (RuntimeException e) {
      answer.completeExceptionally(e);
    }
    return answer;
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<ReqT> call) {
    this.call = call;
  }

  @Override
  public void onNext(RespT response) {
    try {
      complete(onResponse.apply(response));
    } catch (RuntimeException failure) {
      completeExceptionally(failure);
    }
  }

  @Override
  public void onError(Throwable error) {
    try {
      complete(onError.handle(asStatusException(error)));
    } catch (RuntimeException failure) {
      completeExceptionally(failure);
    }
  }

  /** A call that ended without an answer (a misbehaving server or proxy) must not hang. */
  @Override
  public void onCompleted() {
    if (!isDone()) {
      onError(
          io.grpc.Status.INTERNAL
              .withDescription("the call ended without an answer")
              .asRuntimeException());
    }
  }

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
