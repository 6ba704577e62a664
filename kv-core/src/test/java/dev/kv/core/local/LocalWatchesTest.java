package dev.kv.core.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.RecordingListener;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class LocalWatchesTest {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String MEGABYTE = "x".repeat(1 << 20);
  private static final Pattern RESUME_FROM = Pattern.compile("watch again from revision (\\d+)$");

  private final LocalWatches watches = new LocalWatches("test-watch");
  private final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void close() {
    release.countDown();
    watches.close(new KvException(KvException.Code.UNAVAILABLE, "the test is over"));
  }

  @Test
  void manyWatchesWhoseListenersBlock_areDeliveredByNoMoreThreadsThanProcessors() {
    Set<Thread> delivering = ConcurrentHashMap.newKeySet();
    AtomicInteger delivered = new AtomicInteger();
    for (int i = 0; i < 50; i++) {
      watches.open(
          WatchQuery.key("k"),
          new Blocking() {
            @Override
            public void onEvent(WatchEvent event) {
              delivering.add(Thread.currentThread());
              super.onEvent(event);
              delivered.incrementAndGet();
            }
          },
          1,
          Stream.empty());
    }

    watches.publish(put("k", 2, "v"));

    int processors = Runtime.getRuntime().availableProcessors();
    Awaitility.await().atMost(WAIT).until(() -> delivering.size() >= Math.min(processors, 50));
    Awaitility.await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(10))
        .until(() -> delivering.size() <= processors);
    release.countDown();
    Awaitility.await().atMost(WAIT).until(() -> delivered.get() == 50);
  }

  @Test
  void aWatchThatFallsBehind_endsAfterWhatItHolds_namingTheRevisionToWatchAgainFrom()
      throws InterruptedException {
    Blocking slow = new Blocking();
    watches.open(WatchQuery.key("k"), slow, 1, Stream.empty());
    int published = (int) (LocalWatches.MAX_QUEUED_BYTES >> 20) + 4;

    for (int revision = 2; revision < 2 + published; revision++) {
      watches.publish(put("k", revision, MEGABYTE));
    }
    release.countDown();

    long resumeFrom = resumeFrom(slow.error);
    assertThat(resumeFrom).isBetween(3L, 1L + published);
    assertThat(revisions(slow.events.next((int) resumeFrom - 2, WAIT)))
        .as("every change before the one to watch again from, in order")
        .isEqualTo(range(2, resumeFrom));
    assertThat(slow.events.drain()).as("nothing after the error").isEmpty();
  }

  @Test
  void aWatchThatFallsBehind_neverSplitsTheChangesOfOneRevision() throws InterruptedException {
    Blocking slow = new Blocking();
    watches.open(WatchQuery.prefix("k/"), slow, 1, Stream.empty());
    watches.publish(put("k/first", 2, "v"));
    int keys = (int) (LocalWatches.MAX_QUEUED_BYTES >> 20) + 2;

    // One revision that changes more than a watch may hold, as a delete of many keys would.
    for (int i = 0; i < keys; i++) {
      watches.publish(put("k/" + i, 3, MEGABYTE));
    }
    watches.publish(put("k/last", 4, "v"));
    release.countDown();

    assertThat(resumeFrom(slow.error)).isEqualTo(4);
    assertThat(revisions(slow.events.next(1 + keys, WAIT)))
        .containsExactlyElementsOf(revisionsOf(2, 1, 3, keys));
    assertThat(slow.events.drain()).isEmpty();
  }

  @Test
  void aReplayLargerThanAWatchHolds_endsAfterPartOfIt_namingTheRevisionToWatchAgainFrom()
      throws InterruptedException {
    Blocking slow = new Blocking();
    int kept = (int) (LocalWatches.MAX_QUEUED_BYTES >> 20) + 4;
    List<WatchEvent> past = new ArrayList<>();
    for (int revision = 2; revision < 2 + kept; revision++) {
      past.add(put("k", revision, MEGABYTE));
    }

    watches.open(WatchQuery.key("k"), slow, 2, past.stream());
    watches.publish(put("k", 2 + kept, "later"));
    release.countDown();

    long resumeFrom = resumeFrom(slow.error);
    assertThat(resumeFrom).isBetween(3L, 1L + kept);
    assertThat(revisions(slow.events.next((int) resumeFrom - 2, WAIT)))
        .isEqualTo(range(2, resumeFrom));
    assertThat(slow.events.drain()).isEmpty();
  }

  @Test
  void aWatchFromNow_startsAfterTheLastRevision_withoutReadingTheHistory()
      throws InterruptedException {
    RecordingListener listener = new RecordingListener();

    var watch =
        watches.open(
            WatchQuery.key("k"),
            listener,
            7,
            () -> {
              throw new AssertionError("a watch from now needs no history");
            });
    watches.publish(put("k", 7, "old"));
    watches.publish(put("k", 8, "new"));

    assertThat(watch.started()).isCompletedWithValue(8L);
    assertThat(revisions(listener.next(1, WAIT))).containsExactly(8L);
  }

  @Test
  void aWatchFromBeforeTheHistory_failsOutOfRange_namingTheOldestAvailable() {
    RecordingListener listener = new RecordingListener();
    Kept history = new Kept(5, List.of(put("k", 5, "v")));

    watches.open(WatchQuery.key("k").fromRevision(4), listener, 5, () -> history);

    assertThat(listener.error()).succeedsWithin(WAIT);
    assertThat(listener.error().join().code()).isEqualTo(KvException.Code.OUT_OF_RANGE);
    assertThat(listener.error().join())
        .hasMessage("revision 4 is no longer kept; the oldest available is 5");
    assertThat(history.closed).as("the history is let go").isTrue();
  }

  @Test
  void aWatchFromThePast_getsTheKeptChangesItCoversFromItsStart_thenThePublishedOnes()
      throws InterruptedException {
    RecordingListener listener = new RecordingListener();
    Kept history = new Kept(2, List.of(put("k", 2, "a"), put("other", 3, "b"), put("k", 4, "c")));

    var watch = watches.open(WatchQuery.key("k").fromRevision(3), listener, 4, () -> history);
    watches.publish(put("k", 5, "d"));

    assertThat(watch.started()).isCompletedWithValue(3L);
    assertThat(revisions(listener.next(2, WAIT))).containsExactly(4L, 5L);
    assertThat(history.closed).as("the history is let go").isTrue();
  }

  @Test
  void aHistoryThatCannotBeRead_failsTheWatchWithItsError() {
    RecordingListener listener = new RecordingListener();
    KvException damaged = new KvException(KvException.Code.DATA_LOSS, "damaged");
    Kept history =
        new Kept(1, List.of()) {
          @Override
          public Stream<WatchEvent> since(long start, WatchQuery query) {
            throw damaged;
          }
        };

    watches.open(WatchQuery.key("k").fromRevision(2), listener, 4, () -> history);
    watches.publish(put("k", 5, "later"));

    assertThat(listener.error()).succeedsWithin(WAIT).isSameAs(damaged);
    assertThat(listener.drain()).as("nothing delivered").isEmpty();
    assertThat(history.closed).as("the history is let go").isTrue();
  }

  /**
   * A history that keeps {@code changes}, from {@code firstKept} on, and gives them all: a watch
   * takes only those from its start that it covers.
   */
  private static class Kept implements History {
    final long firstKept;
    final List<WatchEvent> changes;
    volatile boolean closed;

    Kept(long firstKept, List<WatchEvent> changes) {
      this.firstKept = firstKept;
      this.changes = changes;
    }

    @Override
    public long firstKept() {
      return firstKept;
    }

    @Override
    public Stream<WatchEvent> since(long start, WatchQuery query) {
      return changes.stream();
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  /** A listener that holds up its first change until the test lets it go. */
  private class Blocking implements WatchListener {
    final RecordingListener events = new RecordingListener();
    final CompletableFuture<KvException> error = events.error();

    @Override
    public void onEvent(WatchEvent event) {
      try {
        release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      events.onEvent(event);
    }

    @Override
    public void onError(KvException failure) {
      events.onError(failure);
    }
  }

  /** The revision the error names to watch again from; it must be RESOURCE_EXHAUSTED. */
  private static long resumeFrom(CompletableFuture<KvException> error) {
    assertThat(error).succeedsWithin(WAIT);
    KvException failure = error.join();
    assertThat(failure.code()).isEqualTo(KvException.Code.RESOURCE_EXHAUSTED);
    Matcher resume = RESUME_FROM.matcher(failure.getMessage());
    assertThat(resume.find()).as("names a revision: %s", failure.getMessage()).isTrue();
    return Long.parseLong(resume.group(1));
  }

  private static WatchEvent put(String key, long revision, String value) {
    return new WatchEvent(WatchEvent.Type.PUT, new KeyValue(key, value, revision, revision, 1));
  }

  private static List<Long> revisions(List<WatchEvent> events) {
    return events.stream().map(WatchEvent::revision).toList();
  }

  /** Revisions from {@code from} up to {@code to}, not included. */
  private static List<Long> range(long from, long to) {
    List<Long> revisions = new ArrayList<>();
    for (long revision = from; revision < to; revision++) {
      revisions.add(revision);
    }
    return revisions;
  }

  /** {@code count} times {@code revision}, after {@code firstCount} times {@code first}. */
  private static List<Long> revisionsOf(long first, int firstCount, long revision, int count) {
    List<Long> revisions = new ArrayList<>();
    for (int i = 0; i < firstCount; i++) {
      revisions.add(first);
    }
    for (int i = 0; i < count; i++) {
      revisions.add(revision);
    }
    return revisions;
  }
}
