package dev.kv.core;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The rules that every store's arguments follow are applied before a store sees them. */
class AbstractKvStoreTest {

  private final RecordingStore store = new RecordingStore();

  @Test
  void requestsThatBreakARule_failWithInvalidArgument_withoutReachingTheStore() {
    List<CompletableFuture<?>> refused =
        List.of(
            store.get(""),
            store.get("bad\uD800key"),
            store.set("k", null),
            store.set("k", "v", Duration.ofSeconds(-1)),
            store.set("k", "v", Ttl.MAX.plusSeconds(1)),
            store.setIf("k", "v", -5),
            store.setIf("", "v", Swap.ABSENT),
            store.deleteIf("k", Swap.ABSENT),
            store.delete(""),
            store.deletePrefix(""));

    for (CompletableFuture<?> answer : refused) {
      assertThatFailureOf(answer).hasCode(KvException.Code.INVALID_ARGUMENT);
    }
    assertThat(store.calls).isEmpty();
  }

  @Test
  void validRequests_reachTheStore_withTheTimeToLiveInWholeSecondsRoundedUp() {
    store.get("k");
    store.set("k", "v", Duration.ofMillis(1500));
    store.set("k", "v");
    store.setIf("k", "v", Swap.ABSENT, Duration.ofSeconds(30));
    store.deleteIf("k", 7);
    store.delete("k");
    store.deletePrefix("p/");

    assertThat(store.calls)
        .containsExactly(
            "get k LINEARIZABLE",
            "set k v 2",
            "set k v 0",
            "setIf k v 0 30",
            "deleteIf k 7",
            "delete k",
            "deletePrefix p/");
  }

  @Test
  void aClosedStore_isNamedInItsRefusal() {
    assertThat(store.closedError().code()).isEqualTo(KvException.Code.UNAVAILABLE);
    assertThat(store.closedError()).hasMessage("the recording store is closed");
    assertThat(store).hasToString("the recording store");
  }

  /** Records the calls that reach it, and answers each with nothing. */
  private static final class RecordingStore extends AbstractKvStore {
    final List<String> calls = new ArrayList<>();

    RecordingStore() {
      super("the recording store");
    }

    private <T> CompletableFuture<T> record(String call) {
      calls.add(call);
      return CompletableFuture.completedFuture(null);
    }

    @Override
    protected CompletableFuture<Optional<KeyValue>> doGet(String key, ReadConsistency consistency) {
      return record("get " + key + " " + consistency);
    }

    @Override
    protected CompletableFuture<Long> doSet(String key, String value, long ttlSeconds) {
      return record("set " + key + " " + value + " " + ttlSeconds);
    }

    @Override
    protected CompletableFuture<Swap> doSetIf(
        String key, String value, long expectedModRevision, long ttlSeconds) {
      return record("setIf " + key + " " + value + " " + expectedModRevision + " " + ttlSeconds);
    }

    @Override
    protected CompletableFuture<Swap> doDeleteIf(String key, long expectedModRevision) {
      return record("deleteIf " + key + " " + expectedModRevision);
    }

    @Override
    protected CompletableFuture<Deleted> doDelete(String key) {
      return record("delete " + key);
    }

    @Override
    protected CompletableFuture<Deleted> doDeletePrefix(String prefix) {
      return record("deletePrefix " + prefix);
    }

    @Override
    protected CompletableFuture<Page> doList(ListQuery query) {
      return record("list");
    }

    @Override
    public Watch watch(WatchQuery query, WatchListener listener) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<Void> checkHealth() {
      return record("health");
    }

    @Override
    public void close() {}
  }
}
