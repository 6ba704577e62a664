package dev.kv.core.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class GrpcErrorsTest {

  @ParameterizedTest
  @EnumSource(KvException.Code.class)
  void everyCode_crossesTheWireUnchanged(KvException.Code code) {
    Status status = GrpcErrors.toStatus(new KvException(code, "what happened"));

    assertThat(status.getCode().name()).isEqualTo(code.name());
    assertThat(status.getDescription()).isEqualTo("what happened");
    assertThat(GrpcErrors.toKvCode(status.getCode())).isEqualTo(code);
  }

  @Test
  void toStatus_wrappedKvException_keepsItsCode() {
    Status status = GrpcErrors.toStatus(new CompletionException(KvException.notFound("foo")));

    assertThat(status.getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(status.getDescription()).isEqualTo("key not found: foo");
  }

  @Test
  void toStatus_unexpectedException_isInternalAndHidesItsDetails() {
    Status status = GrpcErrors.toStatus(new IllegalStateException("secret detail"));

    assertThat(status.getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(status.getDescription()).doesNotContain("secret detail");
  }

  @Test
  void toStatus_unknownStatusFromBelow_becomesInternal() {
    Status status = GrpcErrors.toStatus(Status.UNKNOWN.withDescription("?").asRuntimeException());

    assertThat(status.getCode()).isEqualTo(Status.Code.INTERNAL);
  }

  @Test
  void callFailure_connectionBrokenUnderTheCall_isUnavailable() {
    StatusRuntimeException broken =
        Status.UNKNOWN
            .withDescription("channel closed")
            .withCause(new java.nio.channels.ClosedChannelException())
            .asRuntimeException();

    KvException failure =
        GrpcErrors.callFailure(broken, "etcd at http://127.0.0.1:2379", Duration.ofSeconds(5));

    assertThat(failure.code()).isEqualTo(KvException.Code.UNAVAILABLE);
    assertThat(failure.getMessage()).isEqualTo("cannot reach etcd at http://127.0.0.1:2379");
  }

  @Test
  void callFailure_deadline_namesThePeerAndTheTimeout() {
    KvException failure =
        GrpcErrors.callFailure(
            Status.DEADLINE_EXCEEDED.asRuntimeException(),
            "kv-server at h:1",
            Duration.ofMillis(1500));

    assertThat(failure.code()).isEqualTo(KvException.Code.DEADLINE_EXCEEDED);
    assertThat(failure.getMessage()).isEqualTo("kv-server at h:1 did not answer within 1500ms");
  }

  @Test
  void callFailure_plainHttpAnswerOfAProxy_isOneLineNamingTheStatus() {
    StatusRuntimeException notFound =
        Status.UNIMPLEMENTED
            .withDescription(
                "HTTP status code 404\ninvalid content-type: text/html\nheaders: Metadata(...)")
            .asRuntimeException();

    KvException failure =
        GrpcErrors.callFailure(notFound, "etcd at http://127.0.0.1:9911", Duration.ofSeconds(5));

    assertThat(failure.getMessage())
        .isEqualTo(
            "etcd at http://127.0.0.1:9911 answered HTTP 404 rather than gRPC; if a proxy is in"
                + " between, check the authority it routes on");
  }

  @Test
  void callFailure_unimplemented_asEnvoyAnswersACallWithNoRoute_saysSo() {
    KvException failure =
        GrpcErrors.callFailure(
            Status.UNIMPLEMENTED.asRuntimeException(),
            "etcd at http://127.0.0.1:9911",
            Duration.ofSeconds(5));

    assertThat(failure.getMessage())
        .isEqualTo(
            "etcd at http://127.0.0.1:9911 does not serve this call; if a proxy is in between,"
                + " check the authority it routes on");
  }

  @Test
  void toKvCode_codeThePortDoesNotName_isInternal() {
    assertThat(GrpcErrors.toKvCode(Status.Code.ABORTED)).isEqualTo(KvException.Code.INTERNAL);
  }

  @Test
  void callFailure_serverThatAnswersHttp1_saysSo() {
    Exception cause =
        new Exception(
            "First received frame was not SETTINGS. Hex dump for first 5 bytes: 485454502f");

    KvException failure =
        failure(Status.UNAVAILABLE.withDescription("http2 exception").withCause(cause));

    assertThat(failure.getMessage())
        .isEqualTo(
            "kv-server at 127.0.0.1:9986 answered in HTTP/1, not gRPC: is this the right address"
                + " and port?");
  }

  @Test
  void callFailure_tlsHandshakes_sayWhatIsWrong() {
    assertThat(
            failure(
                    Status.UNAVAILABLE.withCause(
                        new javax.net.ssl.SSLHandshakeException(
                            "PKIX path building failed: unable to find valid certification path")))
                .getMessage())
        .isEqualTo(
            "TLS with kv-server at 127.0.0.1:9986 failed: its certificate is not signed by a"
                + " trusted CA");
    assertThat(
            failure(
                    Status.UNAVAILABLE.withCause(
                        new javax.net.ssl.SSLHandshakeException("not an SSL/TLS record: 0000")))
                .getMessage())
        .isEqualTo("TLS with kv-server at 127.0.0.1:9986 failed: it does not speak TLS");
  }

  private static KvException failure(Status status) {
    return GrpcErrors.callFailure(
        status.asRuntimeException(), "kv-server at 127.0.0.1:9986", Duration.ofSeconds(5));
  }
}
