package dev.kv.core.grpc;

import dev.kv.core.KvException;
import dev.kv.core.config.Durations;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * The one mapping between {@link KvException} codes and gRPC status codes, used on both sides of
 * the wire.
 */
public final class GrpcErrors {

  private GrpcErrors() {}

  /**
   * The status a server answers for {@code error}. A {@link KvException} keeps its code and
   * message; anything else is an {@code INTERNAL} error whose details stay in the server's log.
   */
  public static Status toStatus(Throwable error) {
    Throwable cause = unwrap(error);
    if (cause instanceof KvException kv) {
      return Status.fromCode(toStatusCode(kv.code())).withDescription(kv.getMessage());
    }
    if (cause instanceof CancellationException) {
      return Status.CANCELLED.withDescription("the request was cancelled");
    }
    if (cause instanceof StatusRuntimeException || cause instanceof StatusException) {
      Status status = Status.fromThrowable(cause);
      if (status.getCode() != Status.Code.UNKNOWN) {
        return status;
      }
    }
    return Status.INTERNAL.withDescription("internal error").withCause(cause);
  }

  /** The gRPC status code of {@code code}: the one of the same name. */
  public static Status.Code toStatusCode(KvException.Code code) {
    return Status.Code.valueOf(code.name());
  }

  /**
   * The port's code for a gRPC status code. Codes the port does not name become {@link
   * KvException.Code#INTERNAL}.
   */
  public static KvException.Code toKvCode(Status.Code code) {
    return switch (code) {
      case INVALID_ARGUMENT -> KvException.Code.INVALID_ARGUMENT;
      case NOT_FOUND -> KvException.Code.NOT_FOUND;
      case UNAVAILABLE -> KvException.Code.UNAVAILABLE;
      case DEADLINE_EXCEEDED -> KvException.Code.DEADLINE_EXCEEDED;
      case CANCELLED -> KvException.Code.CANCELLED;
      case FAILED_PRECONDITION -> KvException.Code.FAILED_PRECONDITION;
      case OUT_OF_RANGE -> KvException.Code.OUT_OF_RANGE;
      case UNAUTHENTICATED -> KvException.Code.UNAUTHENTICATED;
      case PERMISSION_DENIED -> KvException.Code.PERMISSION_DENIED;
      case RESOURCE_EXHAUSTED -> KvException.Code.RESOURCE_EXHAUSTED;
      case DATA_LOSS -> KvException.Code.DATA_LOSS;
      default -> KvException.Code.INTERNAL;
    };
  }

  private static final String NO_ROUTE_HINT =
      "; if a proxy is in between, check the authority it routes on";

  /** How grpc-java describes an answer that was plain HTTP, such as a proxy's error page. */
  private static final Pattern HTTP_STATUS = Pattern.compile("HTTP status code (\\d+)");

  /**
   * The error a caller sees when a call to {@code peer} failed, worded for a person.
   *
   * @param peer what was called, as the message names it, such as {@code kv-server at
   *     127.0.0.1:9986}
   * @param timeout the deadline the call had
   */
  public static KvException callFailure(
      StatusRuntimeException error, String peer, Duration timeout) {
    Status status = error.getStatus();
    Status.Code code = status.getCode();
    if (code == Status.Code.UNKNOWN && unwrapCause(status) instanceof IOException) {
      // A connection that broke under the call (gRPC reports some of these as UNKNOWN).
      code = Status.Code.UNAVAILABLE;
    }
    String description = status.getDescription();
    Matcher http = description == null ? null : HTTP_STATUS.matcher(description);
    if (http != null && http.lookingAt()) {
      // Not a gRPC server's answer: grpc-java puts the whole response in the description.
      String message =
          peer
              + " answered HTTP "
              + http.group(1)
              + " rather than gRPC"
              + (http.group(1).equals("404") ? NO_ROUTE_HINT : "");
      return new KvException(toKvCode(code), message, error);
    }
    SSLException tls = tlsFailure(status.getCause());
    if (tls != null) {
      return new KvException(
          KvException.Code.UNAVAILABLE, "TLS with " + peer + " failed: " + explain(tls), error);
    }
    String notHttp2 = notHttp2(status.getCause());
    if (notHttp2 != null) {
      return new KvException(KvException.Code.UNAVAILABLE, peer + notHttp2, error);
    }
    if (code == Status.Code.UNAVAILABLE
        && description != null
        && description.startsWith("Network closed for unknown reason")) {
      // What a plaintext client sees of a server that expects TLS.
      return new KvException(
          KvException.Code.UNAVAILABLE,
          peer + " closed the connection at once; if it serves TLS, connect with TLS",
          error);
    }
    if (code == Status.Code.UNIMPLEMENTED) {
      // Envoy's answer when no route matches, and a server's for a method it lacks.
      String message =
          peer
              + " does not serve this call"
              + (description == null || description.isEmpty() ? "" : " (" + description + ")")
              + NO_ROUTE_HINT;
      return new KvException(toKvCode(code), message, error);
    }
    String message =
        switch (code) {
          case UNAVAILABLE ->
              status.getCause() != null || description == null
                  ? "cannot reach " + peer
                  : peer + " is unavailable: " + description;
          case DEADLINE_EXCEEDED -> peer + " did not answer within " + Durations.format(timeout);
          default -> description != null ? description : peer + " failed with " + code;
        };
    return new KvException(toKvCode(code), message, error);
  }

  /**
   * What a server that answered in something other than HTTP/2 seems to speak, from the first bytes
   * grpc-java quotes in hex; null for a server that spoke HTTP/2.
   */
  private static String notHttp2(Throwable error) {
    for (Throwable cause = error; cause != null; cause = cause.getCause()) {
      String message = String.valueOf(cause.getMessage());
      if (message.contains("First received frame was not SETTINGS")) {
        String hex = message.substring(message.lastIndexOf(':') + 1).strip();
        if (hex.startsWith("485454502f")) {
          return " answered in HTTP/1, not gRPC: is this the right address and port?";
        }
        if (hex.startsWith("15")) {
          return " answered in TLS: connect with TLS";
        }
        return " does not speak gRPC: is this the right address and port?";
      }
    }
    return null;
  }

  private static SSLException tlsFailure(Throwable error) {
    for (Throwable cause = error; cause != null; cause = cause.getCause()) {
      if (cause instanceof SSLException ssl) {
        return ssl;
      }
    }
    return null;
  }

  /** What went wrong in a TLS handshake, worded for the person who configured it. */
  private static String explain(SSLException failure) {
    String message = String.valueOf(failure.getMessage());
    if (message.contains("PKIX path") || message.contains("unable to find valid certification")) {
      return "its certificate is not signed by a trusted CA";
    }
    if (message.contains("No subject alternative") || message.contains("doesn't match")) {
      return "its certificate is not for this address (" + message + ")";
    }
    if (message.contains("bad_certificate")
        || message.contains("certificate_required")
        || message.contains("unknown_ca")
        || message.contains("certificate_unknown")) {
      return "it refused this client's certificate, or wants one signed by its CA ("
          + message
          + ")";
    }
    if (message.contains("not an SSL/TLS record")) {
      return "it does not speak TLS";
    }
    return message;
  }

  private static Throwable unwrapCause(Status status) {
    Throwable cause = status.getCause();
    while (cause != null && !(cause instanceof IOException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  /** The failure inside the wrappers that futures put around it. */
  public static Throwable unwrap(Throwable error) {
    Throwable cause = error;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }
}
