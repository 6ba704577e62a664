package dev.kv.core;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static dev.kv.core.KvFailureAssert.assertThatKvException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The assertion the store tests share must fail on every failure it is meant to catch. */
class KvFailureAssertTest {

  private static final Duration SHORT = Duration.ofMillis(100);

  @Test
  void failureWithTheCodeAndMessage_passes() {
    assertThatFailureOf(failed(KvException.Code.UNAVAILABLE, "cannot reach etcd at x"), SHORT)
        .hasCode(KvException.Code.UNAVAILABLE)
        .isUnreachable()
        .hasMessageContaining("etcd at x");
    assertThatFailureOf(failed(KvException.Code.DEADLINE_EXCEEDED, "slow"), SHORT).isUnreachable();
  }

  @Test
  void otherCode_fails() {
    CompletableFuture<?> notFound = failed(KvException.Code.NOT_FOUND, "no key");

    assertThatThrownBy(() -> assertThatFailureOf(notFound, SHORT).isUnreachable())
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("NOT_FOUND");
    assertThatThrownBy(
            () -> assertThatFailureOf(notFound, SHORT).hasCode(KvException.Code.UNAVAILABLE))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("UNAVAILABLE");
  }

  @Test
  void answerOrNoEndOrAnotherException_fails() {
    assertThatThrownBy(() -> assertThatFailureOf(CompletableFuture.completedFuture("v"), SHORT))
        .isInstanceOf(AssertionError.class);
    assertThatThrownBy(() -> assertThatFailureOf(new CompletableFuture<>(), SHORT))
        .isInstanceOf(AssertionError.class);
    assertThatThrownBy(
            () ->
                assertThatFailureOf(
                    CompletableFuture.failedFuture(new IllegalStateException("x")), SHORT))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("KvException");
    assertThatThrownBy(() -> assertThatKvException(null)).isInstanceOf(AssertionError.class);
  }

  private static CompletableFuture<?> failed(KvException.Code code, String message) {
    return CompletableFuture.failedFuture(new KvException(code, message));
  }
}
