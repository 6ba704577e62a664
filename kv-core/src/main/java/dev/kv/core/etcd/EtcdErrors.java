package dev.kv.core.etcd;

import dev.kv.core.KvException;
import dev.kv.core.grpc.GrpcErrors;
import dev.kv.core.grpc.StoreConnection;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;

/**
 * What etcd means by the failures its status codes alone do not tell: the one place that reads
 * etcd's wording. etcd words its errors in Go ({@code etcdserver: ...}, from its {@code
 * v3rpc/rpctypes} package), and kv matches parts of those sentences.
 *
 * <p>Checked against etcd 3.4.23 (Debian's {@code etcd-server}), by the etcd tests of this module.
 * A change of wording in another etcd release turns a message here back into gRPC's generic one, or
 * leaves an expired token to fail calls until it is renewed on a later one.
 */
final class EtcdErrors implements StoreConnection.Dialect {

  /** A request over the member's {@code --max-request-bytes}. */
  private static final String TOO_LARGE = "request is too large";

  /** A call without a token, once authentication is enabled. */
  private static final String NO_USER = "user name is empty";

  /** A token that expired, or that another member does not know. */
  private static final String INVALID_TOKEN = "invalid auth token";

  /** A token issued before users or roles changed. */
  private static final String OLD_AUTH_REVISION = "revision of auth store is old";

  /** A user without access to a key, as a watch's cancel reason says it. */
  private static final String PERMISSION_DENIED = "permission denied";

  /** Among a member's Status errors while its database is over its quota. */
  private static final String NO_SPACE_ALARM = "alarm:NOSPACE";

  /**
   * A member's own deadline ran out, as while it loses its leader: etcd sends it as UNKNOWN, and
   * the call's fate is unknown, as with a deadline of ours.
   */
  private static final String CONTEXT_DEADLINE = "context deadline exceeded";

  /** A read at a revision that compaction removed: the oldest kept is not said. */
  private static final String COMPACTED = "required revision has been compacted";

  /** A read at a revision the cluster has not reached. */
  private static final String FUTURE_REVISION = "required revision is a future revision";

  private static final String PREFIX = "etcdserver: ";

  private final EtcdToken token;

  /**
   * @param token the token calls carry, renewed when etcd says it is stale; null without a user
   */
  EtcdErrors(EtcdToken token) {
    this.token = token;
  }

  @Override
  public KvException explain(StatusRuntimeException error, String peer) {
    String description = String.valueOf(error.getStatus().getDescription());
    if (description.contains(TOO_LARGE)) {
      return new KvException(
          KvException.Code.INVALID_ARGUMENT,
          peer + " refused the request as too large for it (its --max-request-bytes)",
          error);
    }
    if (error.getStatus().getCode() == Status.Code.UNKNOWN
        && description.contains(CONTEXT_DEADLINE)) {
      return new KvException(
          KvException.Code.DEADLINE_EXCEEDED,
          peer
              + " did not complete the call in time (context deadline exceeded): a write may or"
              + " may not have been applied",
          error);
    }
    if (description.contains(NO_USER)) {
      return new KvException(
          KvException.Code.UNAUTHENTICATED,
          peer + " has authentication enabled, and no etcd user was given",
          error);
    }
    return null;
  }

  /**
   * Renews the token when {@code error} says it is no longer valid. A call refused for that reason
   * was not applied, and may be sent again.
   */
  @Override
  public boolean repair(StatusRuntimeException error) {
    if (token == null || !isStaleToken(error)) {
      return false;
    }
    token.renew();
    return true;
  }

  static boolean isStaleToken(StatusRuntimeException error) {
    String description = String.valueOf(error.getStatus().getDescription());
    return description.contains(INVALID_TOKEN) || description.contains(OLD_AUTH_REVISION);
  }

  /**
   * Whether a watch that etcd cancelled for {@code reason}, other than a compaction, was denied for
   * good. Otherwise it is opened again, for example after "no leader", which another member may not
   * say; etcd checks the token as each watch starts, so an expired one is renewed first.
   */
  boolean deniesWatch(String reason) {
    if (token != null && reason.contains(INVALID_TOKEN)) {
      token.renew();
      return false;
    }
    return reason.contains(PERMISSION_DENIED);
  }

  /** Whether a read failed because etcd compacted the revision it asked for. */
  static boolean isCompacted(Throwable failure) {
    return isOutOfRange(failure, COMPACTED);
  }

  /** Whether a read failed because it asked for a revision etcd has not reached. */
  static boolean isFutureRevision(Throwable failure) {
    return isOutOfRange(failure, FUTURE_REVISION);
  }

  private static boolean isOutOfRange(Throwable failure, String reason) {
    return GrpcErrors.unwrap(failure) instanceof KvException error
        && error.code() == KvException.Code.OUT_OF_RANGE
        && error.getCause() instanceof StatusRuntimeException cause
        && String.valueOf(cause.getStatus().getDescription()).contains(reason);
  }

  /**
   * What a read or watch from {@code revision}, which etcd compacted, fails with; {@code
   * oldestKept} 0 when unknown.
   */
  static KvException compacted(long revision, long oldestKept) {
    return new KvException(
        KvException.Code.OUT_OF_RANGE,
        "revision "
            + revision
            + " is no longer kept (etcd compacted it)"
            + (oldestKept > 0 ? "; the oldest available is " + oldestKept : ""));
  }

  /** What a read at {@code revision}, which etcd has not reached, fails with. */
  static KvException beyond(long revision, Throwable failure) {
    return new KvException(
        KvException.Code.OUT_OF_RANGE,
        "revision " + revision + " is beyond etcd's latest revision",
        GrpcErrors.unwrap(failure));
  }

  /** Whether a member's Status errors say its database is over its space quota. */
  static boolean isOutOfSpace(List<String> statusErrors) {
    return statusErrors.stream().anyMatch(error -> error.contains(NO_SPACE_ALARM));
  }

  /** An etcd message without the prefix etcd puts on each. */
  static String withoutPrefix(String description) {
    return description == null ? "" : description.replaceFirst("^" + PREFIX, "");
  }
}
