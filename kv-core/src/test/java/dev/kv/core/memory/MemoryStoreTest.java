package dev.kv.core.memory;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.KvStoreContract;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.RecordingListener;
import dev.kv.core.WatchQuery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

class MemoryStoreTest extends KvStoreContract {

  @Override
  protected KvStore newStore() {
    return new MemoryStore();
  }

  @Test
  void watchFromARevisionNoLongerKept_endsWithOutOfRange_namingTheOldestKept() {
    try (MemoryStore small = new MemoryStore(3)) {
      for (int i = 0; i < 5; i++) {
        await(small.set("k", "v" + i)); // revisions 2 to 6; the last 3 are kept
      }
      RecordingListener seen = new RecordingListener();

      small.watch(WatchQuery.key("k").fromRevision(2), seen);

      assertThat(seen.error())
          .succeedsWithin(Duration.ofSeconds(30))
          .satisfies(
              error -> {
                assertThat(error.code()).isEqualTo(KvException.Code.OUT_OF_RANGE);
                assertThat(error.getMessage())
                    .isEqualTo("revision 2 is no longer kept; the oldest available is 4");
              });
    }
  }

  @Test
  void list_atARevisionWhoseListingEnded_failsWithOutOfRange_sayingHowLongOneStaysReadable() {
    try (MemoryStore store = MemoryStore.builder().listingLease(Duration.ofMillis(200)).build()) {
      await(store.set("k/1", "a"));
      await(store.set("k/2", "b"));
      Page first = await(store.list(ListQuery.prefix("k/").limit(1)));
      await(store.set("k/2", "c"));

      // Each read at the revision renews its lease: polled less often than that, it runs out.
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () ->
                  assertThatFailureOf(
                          store.list(
                              ListQuery.prefix("k/")
                                  .startAfter("k/1")
                                  .atRevision(first.revision())))
                      .hasCode(KvException.Code.OUT_OF_RANGE)
                      .hasMessage(
                          "revision 3 is no longer readable (the store is at 4): a listing's"
                              + " revision stays readable for 200ms after its last page; list"
                              + " again from the start"));
    }
  }

  @Test
  void list_atARevisionNoListingPinned_failsWithOutOfRange() {
    long first = await(store.set("k", "a"));
    await(store.set("k", "b"));

    assertThatFailureOf(store.list(ListQuery.prefix("k").atRevision(first)))
        .hasCode(KvException.Code.OUT_OF_RANGE)
        .hasMessageContaining("list again from the start");
  }

  @Test
  void list_keepsTheLatest64Listings_theOldestEnds() {
    List<Long> revisions = new ArrayList<>();
    for (int i = 0; i < 65; i++) {
      await(store.set("k/" + i, "x"));
      revisions.add(await(store.list(ListQuery.prefix("k/").limit(1))).revision());
    }
    await(store.set("k/last", "x"));

    assertFailsWith(
        store.list(ListQuery.prefix("k/").startAfter("k/0").atRevision(revisions.get(0))),
        KvException.Code.OUT_OF_RANGE);
    assertThat(
            await(store.list(ListQuery.prefix("k/").startAfter("k/0").atRevision(revisions.get(1))))
                .entries())
        .extracting(KeyValue::key)
        .containsExactly("k/1");
  }
}
