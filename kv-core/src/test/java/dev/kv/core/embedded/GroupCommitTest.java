package dev.kv.core.embedded;

import static dev.kv.core.embedded.OpenedDirectory.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvException;
import dev.kv.core.RecordingListener;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rocksdb.ReadTier;

@Timeout(60)
class GroupCommitTest {

  @RegisterExtension final OpenedDirectory opened = new OpenedDirectory(100);

  @Test
  void theWritesThatArriveWhileABatchIsApplied_goTogetherInTheNext() throws Exception {
    CountDownLatch applying = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Batch> first =
        opened.writer.submit(
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
          opened.writer.submit(
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
      writes.add(opened.writer.submit(batch -> batch.put(key, "v", 0)));
    }

    for (int i = 0; i < writes.size(); i++) {
      assertThat(writes.get(i)).succeedsWithin(WAIT).isEqualTo(2L + i);
    }
    assertThat(opened.writer.<Long>atPublishedRevision(revision -> revision)).isEqualTo(201);
  }

  @Test
  void aWriteThatFails_failsAlone_andTheOthersInItsBatchCommit() {
    CompletableFuture<Long> before = opened.writer.submit(batch -> batch.put("a", "1", 0));
    CompletableFuture<Long> failing =
        opened.writer.submit(
            batch -> {
              throw new IllegalStateException("broken");
            });
    CompletableFuture<Long> after = opened.writer.submit(batch -> batch.put("b", "2", 0));

    assertThat(before).succeedsWithin(WAIT).isEqualTo(2L);
    assertThat(after).succeedsWithin(WAIT).isEqualTo(3L);
    assertThat(failing).failsWithin(WAIT);
    Throwable failure = failing.handle((ok, e) -> e).join();
    assertThat(failure).isInstanceOf(KvException.class);
    assertThat(((KvException) failure).code()).isEqualTo(KvException.Code.INTERNAL);
    assertThat(failure).hasMessageContaining("the write failed").hasMessageContaining("broken");
    assertThat(opened.writer.failing()).as("the disk took the batch").isFalse();
  }

  @Test
  void aWrite_isPublishedToTheWatches_beforeItIsAcknowledged() {
    CompletableFuture<Long> publishedWhenAcknowledged =
        opened
            .writer
            .submit(batch -> batch.put("a", "1", 0))
            .thenApply(written -> opened.writer.atPublishedRevision(revision -> revision));

    assertThat(publishedWhenAcknowledged).succeedsWithin(WAIT).isEqualTo(2L);
  }

  @Test
  void aKeyWhoseTimeRunsOut_isDeletedByTheWriter_atARevisionOfItsOwn() throws Exception {
    RecordingListener listener = new RecordingListener();
    opened.writer.atPublishedRevision(
        revision ->
            opened.watches.open(WatchQuery.key("ttl"), listener, revision + 1, Stream.empty()));

    long written =
        opened
            .writer
            .submit(batch -> batch.put("ttl", "v", System.currentTimeMillis() + 200))
            .join();

    List<WatchEvent> events = listener.next(2, WAIT);
    assertThat(events.get(0).type()).isEqualTo(WatchEvent.Type.PUT);
    assertThat(events.get(1).type()).isEqualTo(WatchEvent.Type.DELETE);
    assertThat(events.get(1).revision()).isEqualTo(written + 1);
    assertThat(opened.reader.get("ttl", ReadTier.READ_ALL_TIER)).isEmpty();
  }

  @Test
  void close_commitsAndAcknowledgesTheWritesAlreadySubmitted() throws Exception {
    List<CompletableFuture<Long>> writes = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      String key = "k" + i;
      writes.add(opened.writer.submit(batch -> batch.put(key, "v", 0)));
    }

    opened.writer.close();

    for (CompletableFuture<Long> write : writes) {
      assertThat(write).succeedsWithin(WAIT);
    }
    assertThat(opened.reader.revision(ReadTier.READ_ALL_TIER)).isEqualTo(101);
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
