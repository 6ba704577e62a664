package dev.kv.core.grpc;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Predicate;
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
  private final Runnable resend;
  private final Predicate<StatusRuntimeException> resendOnce;
  private boolean resent;
  private volatile ClientCallStreamObserver<ReqT> call;

  private UnaryCallFuture(
      Supplier<ReqT> request,
      BiConsumer<ReqT, StreamObserver<RespT>> send,
      Function<RespT, T> onResponse,
      ErrorHandler<T> onError,
      Predicate<StatusRuntimeException> resendOnce) {
    this.onResponse = onResponse;
    this.onError = onError;
    this.resendOnce = resendOnce;
    this.resend =
        () -> {
          try {
            send.accept(request.get(), this);
          } catch (RuntimeException e) {
            completeExceptionally(e);
          }
        };
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
    return start(request, send, onResponse, onError, error -> false);
  }

  /**
   * Starts one call as {@link #start(Supplier, BiConsumer, Function, ErrorHandler)} does, and sends
   * it once more, rebuilt, if its first failure passes {@code resendOnce}: for a failure that says
   * the request was not applied and that the caller has repaired, such as an expired token.
   */
  public static <ReqT, RespT, T> CompletableFuture<T> start(
      Supplier<ReqT> request,
      BiConsumer<ReqT, StreamObserver<RespT>> send,
      Function<RespT, T> onResponse,
      ErrorHandler<T> onError,
      Predicate<StatusRuntimeException> resendOnce) {
    UnaryCallFuture<ReqT, RespT, T> answer =
        new UnaryCallFuture<>(request, send, onResponse, onError, resendOnce);
    answer.resend.run();
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
    StatusRuntimeException status = asStatusException(error);
    if (!resent && !isDone() && resendOnce.test(status)) {
      resent = true;
      resend.run();
      return;
    }
    try {
      complete(onError.handle(status));
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
