package dev.kv.core.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvException;
import dev.kv.etcd.api.etcdserverpb.AuthGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What etcd 3.4's words mean to kv, given as etcd sends them. */
class EtcdErrorsTest {

  private static final String PEER = "etcd at http://127.0.0.1:2379";

  /** Never called: a token is asked for only when a call carries it. */
  private final ManagedChannel unused = InProcessChannelBuilder.forName("unused").build();

  private final EtcdErrors withUser =
      new EtcdErrors(
          new EtcdToken(
              AuthGrpc.newStub(unused), "kv", "secret", PEER, Duration.ofSeconds(1), () -> {}));

  private final EtcdErrors withoutUser = new EtcdErrors(null);

  @AfterEach
  void close() {
    unused.shutdownNow();
  }

  private static StatusRuntimeException etcd(Status status, String description) {
    return status.withDescription(description).asRuntimeException();
  }

  @Test
  void explain_requestTooLarge_isInvalidArgumentNamingTheMembersLimit() {
    KvException error =
        withoutUser.explain(
            etcd(Status.INVALID_ARGUMENT, "etcdserver: request is too large"), PEER);

    assertThat(error.code()).isEqualTo(KvException.Code.INVALID_ARGUMENT);
    assertThat(error.getMessage())
        .isEqualTo(PEER + " refused the request as too large for it (its --max-request-bytes)");
  }

  @Test
  void explain_callWithoutAUser_isUnauthenticatedSayingNoneWasGiven() {
    KvException error =
        withoutUser.explain(etcd(Status.INVALID_ARGUMENT, "etcdserver: user name is empty"), PEER);

    assertThat(error.code()).isEqualTo(KvException.Code.UNAUTHENTICATED);
    assertThat(error.getMessage())
        .isEqualTo(PEER + " has authentication enabled, and no etcd user was given");
  }

  @Test
  void explain_contextDeadlineOfAMemberLosingItsLeader_isDeadlineExceeded_notInternal() {
    KvException error =
        withoutUser.explain(
            Status.UNKNOWN.withDescription("context deadline exceeded").asRuntimeException(), PEER);

    assertThat(error.code()).isEqualTo(KvException.Code.DEADLINE_EXCEEDED);
    assertThat(error.getMessage())
        .isEqualTo(
            PEER
                + " did not complete the call in time (context deadline exceeded): a write may"
                + " or may not have been applied");
  }

  @Test
  void explain_otherFailures_areLeftToTheirStatusCode() {
    assertThat(withoutUser.explain(etcd(Status.UNAVAILABLE, "etcdserver: no leader"), PEER))
        .isNull();
    assertThat(withoutUser.explain(Status.DEADLINE_EXCEEDED.asRuntimeException(), PEER)).isNull();
  }

  @Test
  void repair_staleToken_renewsItAndLetsTheCallBeSentAgain() {
    assertThat(withUser.repair(etcd(Status.UNAUTHENTICATED, "etcdserver: invalid auth token")))
        .isTrue();
    assertThat(
            withUser.repair(
                etcd(Status.INVALID_ARGUMENT, "etcdserver: revision of auth store is old")))
        .isTrue();
  }

  @Test
  void repair_otherFailures_orNoUser_sendsNothingAgain() {
    assertThat(withUser.repair(etcd(Status.PERMISSION_DENIED, "etcdserver: permission denied")))
        .isFalse();
    assertThat(withUser.repair(Status.UNAVAILABLE.asRuntimeException())).isFalse();
    assertThat(withoutUser.repair(etcd(Status.UNAUTHENTICATED, "etcdserver: invalid auth token")))
        .isFalse();
  }

  @Test
  void deniesWatch_permissionDenied_endsTheWatch() {
    assertThat(withUser.deniesWatch("etcdserver: permission denied")).isTrue();
    assertThat(withoutUser.deniesWatch("etcdserver: permission denied")).isTrue();
  }

  @Test
  void deniesWatch_staleTokenOrNoLeader_reopensIt() {
    assertThat(withUser.deniesWatch("etcdserver: invalid auth token")).isFalse();
    assertThat(withUser.deniesWatch("etcdserver: no leader")).isFalse();
    assertThat(withoutUser.deniesWatch("")).isFalse();
  }

  @Test
  void isOutOfSpace_readsTheNoSpaceAlarmAmongStatusErrors() {
    assertThat(EtcdErrors.isOutOfSpace(List.of("memberID:10276657743932975437 alarm:NOSPACE ")))
        .isTrue();
    assertThat(EtcdErrors.isOutOfSpace(List.of("memberID:10276657743932975437 alarm:CORRUPT ")))
        .isFalse();
    assertThat(EtcdErrors.isOutOfSpace(List.of())).isFalse();
  }

  @Test
  void withoutPrefix_dropsEtcdsPrefixOnly() {
    assertThat(
            EtcdErrors.withoutPrefix(
                "etcdserver: authentication failed, invalid user ID or password"))
        .isEqualTo("authentication failed, invalid user ID or password");
    assertThat(EtcdErrors.withoutPrefix("no prefix: etcdserver: here"))
        .isEqualTo("no prefix: etcdserver: here");
    assertThat(EtcdErrors.withoutPrefix(null)).isEmpty();
  }
}
