package dev.kv.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.assertj.core.api.AbstractThrowableAssert;

/**
 * Assertions on the {@link KvException} a store failed with: its code, and AssertJ's own checks of
 * its message.
 *
 * <pre>{@code
 * assertThatFailureOf(store.get("k"), WAIT).isUnreachable().hasMessageContaining("etcd at ");
 * }</pre>
 */
public final class KvFailureAssert extends AbstractThrowableAssert<KvFailureAssert, KvException> {

  /** How long {@link #assertThatFailureOf(CompletableFuture)} waits: enough for a busy machine. */
  public static final Duration DEFAULT_WAIT = Duration.ofSeconds(60);

  private KvFailureAssert(KvException actual) {
    super(actual, KvFailureAssert.class);
  }

  /** The failure of {@code future}, which must end with a {@link KvException} within 60 s. */
  public static KvFailureAssert assertThatFailureOf(CompletableFuture<?> future) {
    return assertThatFailureOf(future, DEFAULT_WAIT);
  }

  /** The failure of {@code future}, which must end with a {@link KvException} {@code within}. */
  public static KvFailureAssert assertThatFailureOf(CompletableFuture<?> future, Duration within) {
    Throwable failure =
        assertThat(future)
            .failsWithin(within)
            .withThrowableOfType(ExecutionException.class)
            .actual();
    return assertThatKvException(failure.getCause());
  }

  /** {@code actual}, which must be a {@link KvException}. */
  public static KvFailureAssert assertThatKvException(Throwable actual) {
    assertThat(actual).isInstanceOf(KvException.class);
    return new KvFailureAssert((KvException) actual);
  }

  /** Checks the failure's code. */
  public KvFailureAssert hasCode(KvException.Code code) {
    assertThat(actual.code()).as("the code of %s", actual).isEqualTo(code);
    return this;
  }

  /**
   * Checks that the store could not be reached in time: UNAVAILABLE when nothing answered, or
   * DEADLINE_EXCEEDED when the call's deadline passed first (which of the two depends on when the
   * connection attempt gave up).
   */
  public KvFailureAssert isUnreachable() {
    assertThat(actual.code())
        .as("the code of %s", actual)
        .isIn(KvException.Code.UNAVAILABLE, KvException.Code.DEADLINE_EXCEEDED);
    return this;
  }
}
