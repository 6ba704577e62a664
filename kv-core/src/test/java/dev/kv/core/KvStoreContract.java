package dev.kv.core;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static dev.kv.core.KvFailureAssert.assertThatKvException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.tuple;

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
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The behaviour every {@link KvStore} shares, written once. Each adapter's test extends this class
 * and says how to make a fresh, empty store.
 */
@Timeout(180)
public abstract class KvStoreContract {

  /** How long a store may take to answer on a busy machine; a bound, not an expectation. */
  private static final Duration WAIT = Duration.ofSeconds(60);

  /** How long a one-second time to live may take to run out on a busy machine. */
  private static final Duration EXPIRY = Duration.ofSeconds(60);

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

    assertThat(await(store.get("foo")))
        .hasValueSatisfying(
            entry -> {
              assertThat(entry.key()).isEqualTo("foo");
              assertThat(entry.value()).isEqualTo("bar");
            });
  }

  @Test
  void set_existingKey_replacesTheValue() {
    await(store.set("foo", "first"));
    await(store.set("foo", "second"));

    assertThat(valueOf(store.get("foo"))).contains("second");
  }

  @Test
  void status_answersItsKindAndTheRevisionOfTheLastWrite() {
    long written = await(store.set("foo", "bar"));

    StoreStatus status = await(store.status());

    assertThat(status.kind()).isNotBlank();
    assertThat(status.revision()).isEqualTo(written);
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
      List<CompletableFuture<Long>> writes = new ArrayList<>();
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

  // Revisions

  @Test
  void set_returnsTheRevisionItCreated_andGetReportsTheKeysHistory() {
    long created = await(store.set("history", "one"));
    long other = await(store.set("elsewhere", "x"));
    long changed = await(store.set("history", "two"));

    assertThat(other).isGreaterThan(created);
    assertThat(changed).isGreaterThan(other);
    KeyValue entry = await(store.get("history")).orElseThrow();
    assertThat(entry.value()).isEqualTo("two");
    assertThat(entry.createRevision()).isEqualTo(created);
    assertThat(entry.modRevision()).isEqualTo(changed);
    assertThat(entry.version()).isEqualTo(2);
  }

  @Test
  void get_serializable_readsTheValue() {
    await(store.set("relaxed", "value"));

    assertThat(await(store.get("relaxed", ReadConsistency.SERIALIZABLE)).map(KeyValue::value))
        .contains("value");
  }

  @Test
  void deletedKey_startsANewHistoryWhenWrittenAgain() {
    await(store.set("reborn", "first life"));
    await(store.delete("reborn"));
    long reborn = await(store.set("reborn", "second life"));

    KeyValue entry = await(store.get("reborn")).orElseThrow();
    assertThat(entry.createRevision()).isEqualTo(reborn);
    assertThat(entry.version()).isEqualTo(1);
  }

  // Delete

  @Test
  void delete_existingKey_deletesOneAndAdvancesTheRevision() {
    long written = await(store.set("doomed", "x"));

    Deleted deleted = await(store.delete("doomed"));

    assertThat(deleted.count()).isEqualTo(1);
    assertThat(deleted.revision()).isGreaterThan(written);
    assertThat(await(store.get("doomed"))).isEmpty();
  }

  @Test
  void delete_missingKey_deletesNothing() {
    assertThat(await(store.delete("never-there")).count()).isZero();
  }

  @Test
  void deletePrefix_deletesOnlyTheKeysUnderIt() {
    for (String key : List.of("a/1", "a/2", "a/2/deep", "ab", "b", "a")) {
      await(store.set(key, key));
    }

    assertThat(await(store.deletePrefix("a/")).count()).isEqualTo(3);

    assertThat(keys(ListQuery.prefix(""))).containsExactly("a", "ab", "b");
  }

  @Test
  void delete_emptyKeyOrPrefix_failsWithInvalidArgument() {
    assertFailsWith(store.delete(""), KvException.Code.INVALID_ARGUMENT);
    assertFailsWith(store.deletePrefix(""), KvException.Code.INVALID_ARGUMENT);
  }

  // Time to live

  @Test
  void setWithTtl_keyIsThereUntilItExpires_thenGone() {
    long written = await(store.set("session", "token", Duration.ofSeconds(1)));

    assertThat(valueOf(store.get("session"))).contains("token");
    Awaitility.await()
        .atMost(EXPIRY)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> await(store.get("session")).isEmpty());
    // The expiry is one delete: one revision, as on etcd.
    assertThat(await(store.list(ListQuery.prefix("session"))).revision()).isEqualTo(written + 1);
  }

  @Test
  void setWithTtl_thenPlainSet_keepsTheKey() {
    await(store.set("renewed", "short-lived", Duration.ofSeconds(1)));
    await(store.set("renewed", "forever"));
    // Given the same time to live later, the witness runs out no sooner than the first one did.
    await(store.set("witness", "short-lived", Duration.ofSeconds(1)));

    Awaitility.await()
        .atMost(EXPIRY)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> await(store.get("witness")).isEmpty());

    assertThat(valueOf(store.get("renewed"))).contains("forever");
  }

  @Test
  void setIfAbsentWithTtl_isALockThatFreesItself() {
    assertThat(await(store.setIf("lock", "me", Swap.ABSENT, Duration.ofSeconds(1))).applied())
        .isTrue();
    assertThat(await(store.setIf("lock", "you", Swap.ABSENT)).applied()).isFalse();

    Awaitility.await()
        .atMost(EXPIRY)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> await(store.setIf("lock", "you", Swap.ABSENT)).applied());
  }

  @Test
  void set_invalidTtl_failsWithInvalidArgument() {
    assertFailsWith(store.set("k", "v", Duration.ofSeconds(-1)), KvException.Code.INVALID_ARGUMENT);
    assertFailsWith(store.set("k", "v", Duration.ofDays(400)), KvException.Code.INVALID_ARGUMENT);
  }

  // Watch

  /** How long a store may take to deliver an event on a busy machine. */
  private static final Duration EVENTS = Duration.ofSeconds(60);

  @Test
  void watchKey_seesItsPutsAndDeletesInOrder_withTheirRevisions() throws Exception {
    RecordingListener seen = new RecordingListener();
    try (Watch watch = store.watch(WatchQuery.key("w"), seen)) {
      await(watch.started());
      long first = await(store.set("w", "a"));
      await(store.set("w/other", "not watched"));
      long second = await(store.set("w", "b"));
      long deleted = await(store.delete("w")).revision();

      List<WatchEvent> events = seen.next(3, EVENTS);

      assertThat(events)
          .extracting(
              WatchEvent::type,
              event -> event.entry().key(),
              event -> event.entry().value(),
              WatchEvent::revision)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(WatchEvent.Type.PUT, "w", "a", first),
              org.assertj.core.groups.Tuple.tuple(WatchEvent.Type.PUT, "w", "b", second),
              org.assertj.core.groups.Tuple.tuple(WatchEvent.Type.DELETE, "w", "", deleted));
    }
  }

  @Test
  void watchPrefix_seesOnlyTheKeysUnderIt() throws Exception {
    RecordingListener seen = new RecordingListener();
    try (Watch watch = store.watch(WatchQuery.prefix("jobs/"), seen)) {
      await(watch.started());
      await(store.set("jobs/1", "queued"));
      await(store.set("jobsx", "not watched"));
      await(store.deletePrefix("jobs/"));

      assertThat(seen.next(2, EVENTS))
          .extracting(WatchEvent::type, event -> event.entry().key())
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(WatchEvent.Type.PUT, "jobs/1"),
              org.assertj.core.groups.Tuple.tuple(WatchEvent.Type.DELETE, "jobs/1"));
    }
  }

  @Test
  void watchFromAPastRevision_replaysWhatHappenedSince_thenGoesOn() throws Exception {
    long first = await(store.set("h", "1"));
    await(store.set("h", "2"));
    RecordingListener seen = new RecordingListener();
    try (Watch watch = store.watch(WatchQuery.key("h").fromRevision(first), seen)) {
      await(watch.started());
      assertThat(seen.next(2, EVENTS))
          .extracting(event -> event.entry().value())
          .containsExactly("1", "2");

      await(store.set("h", "3"));

      assertThat(seen.next(1, EVENTS))
          .extracting(event -> event.entry().value())
          .containsExactly("3");
    }
  }

  @Test
  void watchFromAFutureRevision_deliversNothingBeforeIt() throws Exception {
    long now = await(store.set("later", "0"));
    RecordingListener seen = new RecordingListener();
    try (Watch watch = store.watch(WatchQuery.key("later").fromRevision(now + 3), seen)) {
      await(watch.started());
      for (int i = 1; i <= 4; i++) {
        await(store.set("later", String.valueOf(i))); // revisions now+1 to now+4
      }

      assertThat(seen.next(2, EVENTS))
          .extracting(WatchEvent::revision)
          .containsExactly(now + 3, now + 4);
    }
  }

  @Test
  void closedWatch_deliversNothingMore() throws Exception {
    RecordingListener seen = new RecordingListener();
    RecordingListener witness = new RecordingListener();
    Watch watch = store.watch(WatchQuery.key("quiet"), seen);
    try (Watch open = store.watch(WatchQuery.key("quiet"), witness)) {
      await(watch.started());
      await(open.started());
      await(store.set("quiet", "1"));
      seen.next(1, EVENTS);

      watch.close();
      await(store.set("quiet", "2"));
      // Once a watch still open has the change, the closed one would have had it too.
      assertThat(witness.next(2, EVENTS))
          .extracting(event -> event.entry().value())
          .containsExactly("1", "2");
    }

    assertThat(seen.drain()).isEmpty();
    assertThat(seen.error()).isNotDone();
  }

  @Test
  void watch_listenerThatThrows_endsTheWatchWithInternal() throws Exception {
    CompletableFuture<KvException> ended = new CompletableFuture<>();
    List<WatchEvent> delivered = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (Watch watch =
        store.watch(
            WatchQuery.key("fragile"),
            new WatchListener() {
              @Override
              public void onEvent(WatchEvent event) {
                delivered.add(event);
                throw new IllegalStateException("listener bug");
              }

              @Override
              public void onError(KvException error) {
                ended.complete(error);
              }
            })) {
      await(watch.started());
      await(store.set("fragile", "1"));

      assertThat(ended)
          .succeedsWithin(EVENTS)
          .satisfies(error -> assertThat(error.code()).isEqualTo(KvException.Code.INTERNAL));
      RecordingListener witness = new RecordingListener();
      try (Watch open = store.watch(WatchQuery.key("fragile"), witness)) {
        await(open.started());
        await(store.set("fragile", "2"));
        // Once a watch still open has the change, the ended one would have had it too.
        witness.next(1, EVENTS);
      }
      assertThat(delivered).hasSize(1);
    }
  }

  @Test
  void closingTheStore_endsItsWatchesWithUnavailable() throws Exception {
    RecordingListener seen = new RecordingListener();
    Watch watch = store.watch(WatchQuery.key("doomed"), seen);
    await(watch.started());

    store.close();

    assertThat(seen.error())
        .succeedsWithin(EVENTS)
        .satisfies(error -> assertThat(error.code()).isEqualTo(KvException.Code.UNAVAILABLE));
  }

  @Test
  void watch_startedGivesTheFirstRevisionItDelivers() throws Exception {
    long before = await(store.set("first", "x"));
    try (Watch watch = store.watch(WatchQuery.key("first"), new RecordingListener())) {
      assertThat(await(watch.started())).isEqualTo(before + 1);
    }
  }

  @Test
  void watch_seesAnExpiryAsADelete() throws Exception {
    RecordingListener seen = new RecordingListener();
    try (Watch watch = store.watch(WatchQuery.key("ephemeral"), seen)) {
      await(watch.started());
      await(store.set("ephemeral", "x", Duration.ofSeconds(1)));

      assertThat(seen.next(2, EXPIRY))
          .extracting(WatchEvent::type)
          .containsExactly(WatchEvent.Type.PUT, WatchEvent.Type.DELETE);
    }
  }

  // Compare-and-set

  @Test
  void setIfAbsent_newKey_applies_thenRefusesWithTheCurrentEntry() {
    Swap first = await(store.setIf("lock", "me", Swap.ABSENT));
    Swap second = await(store.setIf("lock", "you", Swap.ABSENT));

    assertThat(first.applied()).isTrue();
    assertThat(first.current()).isEmpty();
    assertThat(second.applied()).isFalse();
    assertThat(second.current())
        .hasValueSatisfying(
            entry -> {
              assertThat(entry.value()).isEqualTo("me");
              assertThat(entry.modRevision()).isEqualTo(first.revision());
            });
    assertThat(valueOf(store.get("lock"))).contains("me");
  }

  @Test
  void setIf_matchingRevision_applies_staleRevision_changesNothing() {
    long written = await(store.set("counter", "1"));

    Swap stale = await(store.setIf("counter", "stale", written - 1));
    Swap fresh = await(store.setIf("counter", "2", written));

    assertThat(stale.applied()).isFalse();
    assertThat(stale.current().map(KeyValue::value)).contains("1");
    assertThat(fresh.applied()).isTrue();
    assertThat(fresh.revision()).isGreaterThan(written);
    assertThat(await(store.get("counter")).orElseThrow().modRevision()).isEqualTo(fresh.revision());
  }

  @Test
  void setIf_revisionOfAKeyThatIsGone_reportsNoCurrentEntry() {
    long written = await(store.set("gone", "x"));
    await(store.delete("gone"));

    Swap swap = await(store.setIf("gone", "y", written));

    assertThat(swap.applied()).isFalse();
    assertThat(swap.current()).isEmpty();
  }

  @Test
  void setIf_concurrentWritersExpectingTheSameRevision_exactlyOneWins() throws Exception {
    long start = await(store.set("contended", "start"));
    ExecutorService writers = Executors.newFixedThreadPool(8);
    try {
      List<CompletableFuture<Swap>> attempts = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        String value = "writer-" + i;
        attempts.add(
            CompletableFuture.supplyAsync(() -> store.setIf("contended", value, start), writers)
                .thenCompose(attempt -> attempt));
      }
      await(CompletableFuture.allOf(attempts.toArray(CompletableFuture[]::new)));

      List<Swap> winners =
          attempts.stream().map(CompletableFuture::join).filter(Swap::applied).toList();
      assertThat(winners).hasSize(1);
      assertThat(await(store.get("contended")).orElseThrow().modRevision())
          .isEqualTo(winners.get(0).revision());
    } finally {
      writers.shutdown();
    }
  }

  @Test
  void deleteIf_matchingRevision_deletes_staleRevision_keeps() {
    long written = await(store.set("guarded", "x"));

    assertThat(await(store.deleteIf("guarded", written + 100)).applied()).isFalse();
    assertThat(valueOf(store.get("guarded"))).contains("x");
    assertThat(await(store.deleteIf("guarded", written)).applied()).isTrue();
    assertThat(await(store.get("guarded"))).isEmpty();
  }

  @Test
  void conditionalWrites_invalidRevision_failWithInvalidArgument() {
    assertFailsWith(store.setIf("k", "v", -1), KvException.Code.INVALID_ARGUMENT);
    assertFailsWith(store.deleteIf("k", Swap.ABSENT), KvException.Code.INVALID_ARGUMENT);
  }

  // List

  @Test
  void list_prefix_givesItsKeysInKeyOrder() {
    for (String key : List.of("users/carol", "users/alice", "usersx", "user", "users/bob")) {
      await(store.set(key, "v:" + key));
    }

    Page page = await(store.list(ListQuery.prefix("users/")));

    assertThat(page.entries())
        .extracting(KeyValue::key)
        .containsExactly("users/alice", "users/bob", "users/carol");
    assertThat(page.entries())
        .extracting(KeyValue::value)
        .containsExactly("v:users/alice", "v:users/bob", "v:users/carol");
    assertThat(page.more()).isFalse();
  }

  @Test
  void list_range_includesItsStartAndExcludesItsEnd() {
    for (String key : List.of("a", "b", "c", "d", "e")) {
      await(store.set(key, key));
    }

    assertThat(keys(ListQuery.range("b", "d"))).containsExactly("b", "c");
    assertThat(keys(ListQuery.range("c", ""))).containsExactly("c", "d", "e");
  }

  @Test
  void list_pages_continueWhereThePreviousStopped() {
    List<String> all = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      String key = String.format("page/%02d", i);
      all.add(key);
      await(store.set(key, "x"));
    }

    List<Page> pages = pages(ListQuery.prefix("page/").limit(10));

    assertThat(pages).flatExtracting(Page::entries).extracting(KeyValue::key).isEqualTo(all);
    assertThat(pages).extracting(Page::more).containsExactly(true, true, false);
  }

  @Test
  void list_withoutValues_leavesTheValuesOut() {
    await(store.set("k/1", "secret"));

    Page page = await(store.list(ListQuery.prefix("k/").withoutValues()));

    assertThat(page.entries())
        .singleElement()
        .satisfies(
            entry -> {
              assertThat(entry.key()).isEqualTo("k/1");
              assertThat(entry.value()).isEmpty();
              assertThat(entry.version()).isEqualTo(1);
            });
  }

  @Test
  void list_ordersKeysByCodePoint_asEtcdOrdersTheirBytes() {
    // Java's String order puts the emoji (a surrogate pair) first; UTF-8 byte order does not.
    for (String key : List.of("o/\uD83D\uDE00", "o/\uFFFD", "o/z")) {
      await(store.set(key, "x"));
    }

    assertThat(keys(ListQuery.prefix("o/"))).containsExactly("o/z", "o/\uFFFD", "o/\uD83D\uDE00");
  }

  @Test
  void list_reportsTheRevisionItReadAt() {
    long before = await(store.set("r", "x"));
    long listedAt = await(store.list(ListQuery.prefix("r"))).revision();
    long after = await(store.set("r", "y"));

    assertThat(listedAt).isEqualTo(before).isLessThan(after);
  }

  @Test
  void list_pageReachingItsByteBudget_endsEarly_andTheNextGoesOn() {
    // Each entry is 103 bytes: a 3-byte key and a 100-byte value.
    for (int i = 1; i <= 5; i++) {
      await(store.set("b/" + i, "v".repeat(100)));
    }

    List<Page> pages = pages(ListQuery.prefix("b/").maxBytes(250));

    assertThat(pages)
        .extracting(page -> page.entries().stream().map(KeyValue::key).toList())
        .containsExactly(List.of("b/1", "b/2"), List.of("b/3", "b/4"), List.of("b/5"));
    assertThat(pages).extracting(Page::more).containsExactly(true, true, false);
  }

  @Test
  void list_entryLargerThanTheByteBudget_comesAlone() {
    await(store.set("l/1", "x".repeat(300)));
    await(store.set("l/2", "small"));
    await(store.set("l/3", "y".repeat(300)));

    List<Page> pages = pages(ListQuery.prefix("l/").maxBytes(100));

    assertThat(pages)
        .extracting(page -> page.entries().stream().map(KeyValue::key).toList())
        .containsExactly(List.of("l/1"), List.of("l/2"), List.of("l/3"));
    assertThat(pages).extracting(Page::more).containsExactly(true, true, false);
    assertThat(pages.get(0).entries().get(0).value()).hasSize(300);
  }

  @Test
  void list_byteBudget_countsUtf8Bytes() {
    // 60 characters, 120 bytes: two such entries fit in 200 characters, not in 200 bytes.
    await(store.set("u/1", "é".repeat(60)));
    await(store.set("u/2", "é".repeat(60)));

    Page page = await(store.list(ListQuery.prefix("u/").maxBytes(200)));

    assertThat(page.entries()).extracting(KeyValue::key).containsExactly("u/1");
    assertThat(page.more()).isTrue();
  }

  @Test
  void list_withoutValues_byteBudgetCountsTheKeysAlone() {
    for (int i = 1; i <= 3; i++) {
      await(store.set("k/" + i, "v".repeat(100)));
    }

    Page page = await(store.list(ListQuery.prefix("k/").withoutValues().maxBytes(10)));

    assertThat(page.entries()).extracting(KeyValue::key).containsExactly("k/1", "k/2", "k/3");
    assertThat(page.more()).isFalse();
  }

  @Test
  void list_smallEntriesThenLargeOnes_everyPageKeepsItsByteBudget() {
    // Two entries of 10 bytes, then twenty of 600: a store that guesses sizes from the first
    // guesses wrong.
    List<String> all = new ArrayList<>();
    for (int i = 0; i < 22; i++) {
      String key = String.format("s/%02d", i);
      all.add(key);
      await(store.set(key, i < 2 ? "tiny!!" : "L".repeat(596)));
    }

    List<Page> pages = pages(ListQuery.prefix("s/").maxBytes(1_000));

    assertThat(pages).flatExtracting(Page::entries).extracting(KeyValue::key).isEqualTo(all);
    assertThat(pages.get(0).entries())
        .extracting(KeyValue::key)
        .containsExactly("s/00", "s/01", "s/02");
    assertThat(pages)
        .allSatisfy(
            page ->
                assertThat(page.entries().stream().mapToLong(KeyValue::byteSize).sum())
                    .isLessThanOrEqualTo(1_000));
  }

  @Test
  void list_byDefault_pagesStopAtFourMebibytes() {
    // The size of the values that once made a listing exhaust kv-server's heap.
    String large = "v".repeat(1_500_000);
    for (int i = 1; i <= 3; i++) {
      await(store.set("big/" + i, large));
    }

    List<Page> pages = pages(ListQuery.prefix("big/"));

    assertThat(ListQuery.prefix("big/").maxBytes()).isEqualTo(4 << 20);
    assertThat(pages)
        .extracting(page -> page.entries().stream().map(KeyValue::key).toList())
        .containsExactly(List.of("big/1", "big/2"), List.of("big/3"));
    assertThat(pages)
        .flatExtracting(Page::entries)
        .allSatisfy(entry -> assertThat(entry.value()).isEqualTo(large));
  }

  // List at a revision

  @Test
  void list_laterPagesAtTheFirstPagesRevision_seeTheStoreAsItWas() {
    for (String key : List.of("rev/1", "rev/2", "rev/3", "rev/4")) {
      await(store.set(key, "old"));
    }
    Page first = await(store.list(ListQuery.prefix("rev/").limit(2)));
    await(store.set("rev/3", "new"));
    await(store.delete("rev/4"));
    await(store.set("rev/25", "added"));
    await(store.set("rev/5", "added"));

    Page second =
        await(
            store.list(
                ListQuery.prefix("rev/")
                    .limit(10)
                    .startAfter("rev/2")
                    .atRevision(first.revision())));

    assertThat(first.more()).isTrue();
    assertThat(second.entries())
        .extracting(KeyValue::key, KeyValue::value)
        .containsExactly(tuple("rev/3", "old"), tuple("rev/4", "old"));
    assertThat(second.more()).isFalse();
    assertThat(second.revision()).isEqualTo(first.revision());
    assertThat(keys(ListQuery.prefix("rev/").startAfter("rev/2")))
        .containsExactly("rev/25", "rev/3", "rev/5");
  }

  @Test
  void list_atTheCurrentRevision_readsTheLatest() {
    long written = await(store.set("now/a", "x"));

    Page page = await(store.list(ListQuery.prefix("now/").atRevision(written)));

    assertThat(page.entries()).extracting(KeyValue::key).containsExactly("now/a");
    assertThat(page.revision()).isEqualTo(written);
  }

  @Test
  void list_atAPastRevisionNoListingRead_seesTheStoreAsItWasThen() {
    await(store.set("past/a", "a1"));
    await(store.set("past/b", "b1"));
    long then = await(store.set("past/c", "c1"));
    await(store.set("past/a", "a2"));
    await(store.delete("past/b"));
    await(store.set("past/0", "made after"));
    await(store.set("past/d", "made after"));
    await(store.delete("past/d"));

    Page page = await(store.list(ListQuery.prefix("past/").atRevision(then)));
    Page second =
        await(store.list(ListQuery.prefix("past/").startAfter("past/a").limit(1).atRevision(then)));

    assertThat(page.revision()).isEqualTo(then);
    assertThat(page.entries())
        .extracting(KeyValue::key, KeyValue::value)
        .containsExactly(tuple("past/a", "a1"), tuple("past/b", "b1"), tuple("past/c", "c1"));
    assertThat(page.entries()).allMatch(entry -> entry.modRevision() <= then);
    assertThat(page.more()).isFalse();
    assertThat(second.entries()).extracting(KeyValue::key).containsExactly("past/b");
    assertThat(second.more()).isTrue();
    assertThat(await(store.list(ListQuery.prefix("past/"))).entries())
        .extracting(KeyValue::key, KeyValue::value)
        .containsExactly(
            tuple("past/0", "made after"), tuple("past/a", "a2"), tuple("past/c", "c1"));
  }

  @Test
  void list_atARevisionBeyondTheStores_failsWithOutOfRange() {
    long written = await(store.set("k", "v"));

    assertThatFailureOf(store.list(ListQuery.prefix("").atRevision(written + 1_000)))
        .hasCode(KvException.Code.OUT_OF_RANGE)
        .hasMessageContaining(String.valueOf(written + 1_000));
  }

  @Test
  void list_withTtl_givesTheSecondsLeft_onlyForKeysThatHaveSome() {
    await(store.set("ttl/lasting", "x"));
    await(store.set("ttl/leased", "x", Duration.ofSeconds(300)));

    Page page = await(store.list(ListQuery.prefix("ttl/").withTtl()));
    Page without = await(store.list(ListQuery.prefix("ttl/")));

    assertThat(page.ttlSeconds()).containsOnlyKeys("ttl/leased");
    // Rounded up, and tolerant of a slow machine between the write and the listing.
    assertThat(page.ttlSeconds("ttl/leased")).isBetween(240L, 300L);
    assertThat(page.ttlSeconds("ttl/lasting")).isZero();
    assertThat(without.ttlSeconds()).isEmpty();
  }

  @Test
  void list_withTtl_atTheFirstPagesRevision_givesTheSecondsLeft() {
    await(store.set("tp/1", "x"));
    await(store.set("tp/2", "x", Duration.ofSeconds(300)));
    Page first = await(store.list(ListQuery.prefix("tp/").limit(1).withTtl()));
    await(store.set("tp/2", "y"));

    Page second =
        await(
            store.list(
                ListQuery.prefix("tp/").startAfter("tp/1").atRevision(first.revision()).withTtl()));

    assertThat(second.entries()).extracting(KeyValue::value).containsExactly("x");
    assertThat(second.ttlSeconds("tp/2")).isBetween(1L, 300L);
  }

  @Test
  void loneSurrogates_areRefused_asNoStoreCanKeepThem() {
    assertFailsWith(store.set("half\uD800", "v"), KvException.Code.INVALID_ARGUMENT);
    assertFailsWith(store.set("k", "half\uDC00"), KvException.Code.INVALID_ARGUMENT);
    assertFailsWith(store.get("\uDBFF"), KvException.Code.INVALID_ARGUMENT);
  }

  @Test
  void deleteIf_missingKey_doesNotApply() {
    Swap swap = await(store.deleteIf("never", 5));

    assertThat(swap.applied()).isFalse();
    assertThat(swap.current()).isEmpty();
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
    assertThatKvException(catchThrowable(() -> store.blocking().get("")))
        .hasCode(KvException.Code.INVALID_ARGUMENT)
        .hasMessageContaining("key must not be empty");
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
    assertThatFailureOf(future, WAIT).hasCode(code);
  }

  /** Every page of {@code query}, each asked for after the last key of the one before. */
  private List<Page> pages(ListQuery query) {
    List<Page> pages = new ArrayList<>();
    while (true) {
      Page page = await(store.list(query));
      pages.add(page);
      if (!page.more() || pages.size() > 100) {
        return pages;
      }
      query = query.startAfter(page.entries().get(page.entries().size() - 1).key());
    }
  }

  private List<String> keys(ListQuery query) {
    return await(store.list(query)).entries().stream().map(KeyValue::key).toList();
  }

  protected static Optional<String> valueOf(CompletableFuture<Optional<KeyValue>> future) {
    return await(future).map(KeyValue::value);
  }
}
