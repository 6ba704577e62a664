package dev.kv.core.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvException;
import dev.kv.core.RecordingListener;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import dev.kv.core.local.LocalWatches;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class GroupCommitTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dataDir;

  private final LocalWatches watches = new LocalWatches("test-watch");
  private DataDirectory dir;
  private GroupCommit writer;

  @BeforeEach
  void open() throws Exception {
    dir = DataDirectory.open(dataDir, false);
    writer = new GroupCommit(dir.database(), 100, watches);
  }

  @AfterEach
  void close() {
    writer.close();
    watches.close(new KvException(KvException.Code.UNAVAILABLE, "the test is over"));
    dir.close();
  }

  @Test
  void theWritesThatArriveWhileABatchIsApplied_goTogetherInTheNext() throws Exception {
    CountDownLatch applying = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Batch> first =
        writer.submit(
            batch -> {
              applying.countDown();
              await(release);
              batch.put("first", "v", 0);
              return batch;
            });
    await(applying);
    List<CompletableFuture<Batch>> waiting = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      String key = "k" + i;
      waiting.add(
          writer.submit(
              batch -> {
                batch.put(key, "v", 0);
                return batch;
              }));
    }
    release.countDown();

    Batch next = waiting.get(0).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(first.get(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isNotSameAs(next);
    for (CompletableFuture<Batch> write : waiting) {
      assertThat(write.get(WAIT.toMillis(), TimeUnit.MILLISECONDS))
          .as("one batch, one sync, for all that waited")
          .isSameAs(next);
    }
  }

  @Test
  void writes_areAppliedInTheOrderSubmitted_eachAtTheNextRevision() {
    List<CompletableFuture<Long>> writes = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      String key = "k" + i;
      writes.add(writer.submit(batch -> batch.put(key, "v", 0)));
    }

    for (int i = 0; i < writes.size(); i++) {
      assertThat(writes.get(i)).succeedsWithin(WAIT).isEqualTo(2L + i);
    }
    assertThat(writer.<Long>atPublishedRevision(revision -> revision)).isEqualTo(201);
  }

  @Test
  void aWriteThatFails_failsAlone_andTheOthersInItsBatchCommit() {
    CompletableFuture<Long> before = writer.submit(batch -> batch.put("a", "1", 0));
    CompletableFuture<Long> failing =
        writer.submit(
            batch -> {
              throw new IllegalStateException("broken");
            });
    CompletableFuture<Long> after = writer.submit(batch -> batch.put("b", "2", 0));

    assertThat(before).succeedsWithin(WAIT).isEqualTo(2L);
    assertThat(after).succeedsWithin(WAIT).isEqualTo(3L);
    assertThat(failing).failsWithin(WAIT);
    Throwable failure = failing.handle((ok, e) -> e).join();
    assertThat(failure).isInstanceOf(KvException.class);
    assertThat(((KvException) failure).code()).isEqualTo(KvException.Code.INTERNAL);
    assertThat(failure).hasMessageContaining("the write failed").hasMessageContaining("broken");
    assertThat(writer.failing()).as("the disk took the batch").isFalse();
  }

  @Test
  void aWrite_isPublishedToTheWatches_beforeItIsAcknowledged() {
    CompletableFuture<Long> publishedWhenAcknowledged =
        writer
            .submit(batch -> batch.put("a", "1", 0))
            .thenApply(written -> writer.atPublishedRevision(revision -> revision));

    assertThat(publishedWhenAcknowledged).succeedsWithin(WAIT).isEqualTo(2L);
  }

  @Test
  void aKeyWhoseTimeRunsOut_isDeletedByTheWriter_atARevisionOfItsOwn() throws Exception {
    RecordingListener listener = new RecordingListener();
    writer.atPublishedRevision(
        revision -> watches.open(WatchQuery.key("ttl"), listener, revision + 1, Stream.empty()));

    long written =
        writer.submit(batch -> batch.put("ttl", "v", System.currentTimeMillis() + 200)).join();

    List<WatchEvent> events = listener.next(2, WAIT);
    assertThat(events.get(0).type()).isEqualTo(WatchEvent.Type.PUT);
    assertThat(events.get(1).type()).isEqualTo(WatchEvent.Type.DELETE);
    assertThat(events.get(1).revision()).isEqualTo(written + 1);
    assertThat(new SnapshotReader(dir.database()).get("ttl")).isEmpty();
  }

  @Test
  void close_commitsAndAcknowledgesTheWritesAlreadySubmitted() throws Exception {
    List<CompletableFuture<Long>> writes = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      String key = "k" + i;
      writes.add(writer.submit(batch -> batch.put(key, "v", 0)));
    }

    writer.close();

    for (CompletableFuture<Long> write : writes) {
      assertThat(write).succeedsWithin(WAIT);
    }
    assertThat(new SnapshotReader(dir.database()).revision()).isEqualTo(101);
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
