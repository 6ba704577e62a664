package dev.kv.core;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * How the local stores, which keep no past values, read a listing at a revision: from the view its
 * first page pinned (their {@code Pins}), for a while after its last page.
 */
@Timeout(120)
public abstract class ListingPinsContract {

  /** How long a listing stays readable after its last page. */
  private static final Duration LEASE = Duration.ofMinutes(2);

  /** How many listings stay readable at once. */
  private static final int CAP = 64;

  /**
   * A new, empty store whose listings stay readable for {@code listingLease} after their last page,
   * and whose history keeps the changes of the last write alone: too little to rebuild a past
   * revision from (see {@link dev.kv.core.local.PastPage}), so that pins alone serve them.
   */
  protected abstract KvStore newStore(Duration listingLease) throws Exception;

  @Test
  void list_atARevisionWhoseListingEnded_failsWithOutOfRange_sayingHowLongOneStaysReadable()
      throws Exception {
    try (KvStore store = newStore(Duration.ofMillis(200))) {
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
                          "revision 3 is no longer readable (the store is at 4): its history"
                              + " holds the changes since revision 4 only, and a listing's"
                              + " revision stays readable for 200ms after its last page; list"
                              + " again from the start"));
    }
  }

  @Test
  void list_atARevisionNoListingPinned_failsWithOutOfRange() throws Exception {
    try (KvStore store = newStore(LEASE)) {
      long first = await(store.set("k", "a"));
      await(store.set("k", "b"));

      assertThatFailureOf(store.list(ListQuery.prefix("k").atRevision(first)))
          .hasCode(KvException.Code.OUT_OF_RANGE)
          .hasMessageContaining("list again from the start");
    }
  }

  @Test
  void list_keepsTheListingsOf64Revisions_theLeastRecentlyReadEndsFirst() throws Exception {
    try (KvStore store = newStore(LEASE)) {
      await(store.set("k/~", "x"));
      List<Long> revisions = new ArrayList<>();
      for (int i = 0; i <= CAP; i++) {
        await(store.set("k/" + i, "x"));
        revisions.add(await(store.list(ListQuery.prefix("k/").limit(1))).revision());
      }
      await(store.set("k/last", "x"));

      assertThatFailureOf(store.list(secondPage().atRevision(revisions.get(0))))
          .hasCode(KvException.Code.OUT_OF_RANGE);
      assertThat(await(store.list(secondPage().atRevision(revisions.get(1)))).entries())
          .extracting(KeyValue::key)
          .containsExactly("k/1");
    }
  }

  private static ListQuery secondPage() {
    return ListQuery.prefix("k/").startAfter("k/0").limit(1);
  }

  private static <T> T await(CompletableFuture<T> future) {
    return future.orTimeout(60, TimeUnit.SECONDS).join();
  }
}
