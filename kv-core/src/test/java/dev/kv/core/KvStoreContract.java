package dev.kv.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The behaviour every {@link KvStore} shares, written once. Each adapter's test extends this class
 * and says how to make a fresh, empty store.
 */
@Timeout(60)
public abstract class KvStoreContract {

  private static final Duration WAIT = Duration.ofSeconds(10);

  protected KvStore store;

  /** A new store holding no keys. */
  protected abstract KvStore newStore() throws Exception;

  @BeforeEach
  void openStore() throws Exception {
    store = newStore();
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  @Test
  void get_missingKey_returnsEmpty() {
    assertThat(await(store.get("missing"))).isEmpty();
  }

  @Test
  void set_thenGet_returnsTheValue() {
    await(store.set("foo", "bar"));

    assertThat(await(store.get("foo"))).contains(new KeyValue("foo", "bar"));
  }

  @Test
  void set_existingKey_replacesTheValue() {
    await(store.set("foo", "first"));
    await(store.set("foo", "second"));

    assertThat(valueOf(store.get("foo"))).contains("second");
  }

  @Test
  void set_emptyValue_isStoredAsAValue() {
    await(store.set("empty", ""));

    assertThat(valueOf(store.get("empty"))).contains("");
  }

  @Test
  void keys_sharingAPrefix_areIndependent() {
    await(store.set("a", "1"));
    await(store.set("a/b", "2"));
    await(store.set("ab", "3"));

    assertThat(valueOf(store.get("a"))).contains("1");
    assertThat(valueOf(store.get("a/b"))).contains("2");
    assertThat(valueOf(store.get("ab"))).contains("3");
    assertThat(await(store.get("a/"))).isEmpty();
  }

  @Test
  void set_anyUnicodeText_roundTripsExactly() {
    String key = "clé/ключ/鍵/🔑 with spaces";
    String value = "line one\nline two\ttab\u0000nul é 🔒";

    await(store.set(key, value));

    assertThat(valueOf(store.get(key))).contains(value);
  }

  @Test
  void set_largeValue_roundTripsExactly() {
    String value = "x".repeat(1024 * 1024);

    await(store.set("large", value));

    assertThat(valueOf(store.get("large"))).contains(value);
  }

  @Test
  void get_emptyKey_failsWithInvalidArgument() {
    assertFailsWith(store.get(""), KvException.Code.INVALID_ARGUMENT);
  }

  @Test
  void set_emptyKey_failsWithInvalidArgument() {
    assertFailsWith(store.set("", "value"), KvException.Code.INVALID_ARGUMENT);
  }

  @Test
  void set_nullValue_failsWithInvalidArgumentAndStoresNothing() {
    assertFailsWith(store.set("key", null), KvException.Code.INVALID_ARGUMENT);

    assertThat(await(store.get("key"))).isEmpty();
  }

  @Test
  void set_fromManyThreadsAtOnce_keepsEveryWrite() throws Exception {
    ExecutorService callers = Executors.newFixedThreadPool(8);
    try {
      List<CompletableFuture<Void>> writes = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        int n = i;
        writes.add(
            CompletableFuture.supplyAsync(() -> store.set("concurrent/" + n, "value-" + n), callers)
                .thenCompose(write -> write));
      }
      await(CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)));
    } finally {
      callers.shutdown();
    }

    for (int i = 0; i < 500; i++) {
      assertThat(valueOf(store.get("concurrent/" + i))).contains("value-" + i);
    }
  }

  @Test
  void closedStore_failsWithUnavailable() {
    store.close();

    assertFailsWith(store.get("foo"), KvException.Code.UNAVAILABLE);
    assertFailsWith(store.set("foo", "bar"), KvException.Code.UNAVAILABLE);
  }

  @Test
  void checkHealth_openStore_succeeds() {
    assertThat(store.checkHealth()).succeedsWithin(WAIT);
  }

  @Test
  void blocking_getAndSet_waitForTheStore() {
    BlockingKvStore blocking = store.blocking();

    blocking.set("foo", "bar");

    assertThat(blocking.get("foo")).contains("bar");
    assertThat(blocking.get("missing")).isEmpty();
  }

  @Test
  void blocking_failure_throwsTheStoresError() {
    assertThatThrownBy(() -> store.blocking().get(""))
        .isInstanceOfSatisfying(
            KvException.class,
            e -> {
              assertThat(e.code()).isEqualTo(KvException.Code.INVALID_ARGUMENT);
              assertThat(e.getMessage()).contains("key must not be empty");
            });
  }

  /** Waits for {@code future}, failing the test rather than hanging. */
  protected static <T> T await(CompletableFuture<T> future) {
    try {
      return future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("the store failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw new AssertionError("the store did not answer within " + WAIT, e);
    }
  }

  /** Checks that {@code future} fails with a {@link KvException} of {@code code}. */
  protected static void assertFailsWith(CompletableFuture<?> future, KvException.Code code) {
    assertThat(future)
        .failsWithin(WAIT)
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(KvException.class, e -> assertThat(e.code()).isEqualTo(code));
  }

  protected static Optional<String> valueOf(CompletableFuture<Optional<KeyValue>> future) {
    return await(future).map(KeyValue::value);
  }
}
