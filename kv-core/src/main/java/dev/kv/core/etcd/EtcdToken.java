package dev.kv.core.etcd;

import dev.kv.core.grpc.UnaryCallFuture;
import dev.kv.etcd.api.etcdserverpb.AuthGrpc;
import dev.kv.etcd.api.etcdserverpb.AuthenticateRequest;
import dev.kv.etcd.api.etcdserverpb.AuthenticateResponse;
import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The token etcd's authentication gives a user, attached to every call as etcd expects it. It is
 * asked for on the first call, and again when etcd says it has expired: etcd's simple tokens expire
 * after minutes without a call ({@code --auth-token-ttl}), JWTs after a fixed time.
 *
 * <p>The password stays in this object: no message or log line quotes it.
 */
final class EtcdToken extends CallCredentials {

  private static final Metadata.Key<String> TOKEN =
      Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER);

  private final AuthGrpc.AuthStub auth;
  private final String user;
  private final String password;
  private final String peer;
  private final Duration timeout;
  private final Runnable renewed;
  private final AtomicReference<CompletableFuture<String>> token = new AtomicReference<>();

  /**
   * @param renewed told each time an expired token is forgotten, to be asked for again
   */
  EtcdToken(
      AuthGrpc.AuthStub auth,
      String user,
      String password,
      String peer,
      Duration timeout,
      Runnable renewed) {
    this.auth = auth;
    this.user = user;
    this.password = password;
    this.peer = peer;
    this.timeout = timeout;
    this.renewed = renewed;
  }

  @Override
  public void applyRequestMetadata(
      RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
    current()
        .whenComplete(
            (value, error) -> {
              if (error == null) {
                Metadata headers = new Metadata();
                headers.put(TOKEN, value);
                applier.apply(headers);
              } else {
                applier.fail(Status.fromThrowable(error));
              }
            });
  }

  /** The token, or the Authenticate call on its way; one at a time, shared by every call. */
  private CompletableFuture<String> current() {
    while (true) {
      CompletableFuture<String> known = token.get();
      if (known != null && !known.isCompletedExceptionally()) {
        return known;
      }
      CompletableFuture<String> asked = new CompletableFuture<>();
      if (token.compareAndSet(known, asked)) {
        authenticate()
            .whenComplete(
                (value, error) -> {
                  if (error == null) {
                    asked.complete(value);
                  } else {
                    asked.completeExceptionally(error);
                  }
                });
        return asked;
      }
    }
  }

  private CompletableFuture<String> authenticate() {
    return UnaryCallFuture.start(
        () -> AuthenticateRequest.newBuilder().setName(user).setPassword(password).build(),
        (request, answer) ->
            auth.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                .authenticate(request, answer),
        AuthenticateResponse::getToken,
        error -> {
          Status status = error.getStatus();
          if (status.getCode() == Status.Code.INVALID_ARGUMENT
              || status.getCode() == Status.Code.FAILED_PRECONDITION) {
            // Such as "authentication failed, invalid user ID or password".
            throw Status.UNAUTHENTICATED
                .withDescription(
                    peer
                        + " refused user '"
                        + user
                        + "': "
                        + EtcdErrors.withoutPrefix(status.getDescription()))
                .asRuntimeException();
          }
          throw error;
        });
  }

  /** Forgets the token, so that the next call asks for a new one. */
  void renew() {
    CompletableFuture<String> known = token.get();
    if (known != null && known.isDone() && token.compareAndSet(known, null)) {
      renewed.run();
    }
  }
}
