package dev.kv.core.embedded;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.RecordingListener;
import dev.kv.core.Watch;
import dev.kv.core.WatchQuery;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads that memory can answer run on the caller's thread: their future is complete when the call
 * returns. Those that need the disk go to the store's pool. A store opened again starts with an
 * empty block cache, and its entries are in table files (a close flushes them there): its first
 * read of a key needs the disk.
 */
@Timeout(60)
class DiskReadsTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dataDir;

  private final HeldTasks diskReads = new HeldTasks();

  @Test
  void getThatNeedsTheDisk_runsOnThePool_andOnceCached_onTheCallersThread() {
    writeAndClose(3);
    try (EmbeddedStore store = reopened()) {
      CompletableFuture<Optional<KeyValue>> cold = store.get("k1");
      assertThat(cold).isNotDone();
      assertThat(diskReads.runAll()).isEqualTo(1);
      assertThat(cold.join()).map(KeyValue::value).contains("v1");

      CompletableFuture<Optional<KeyValue>> cached = store.get("k2"); // the same block
      assertThat(cached).isCompleted();
      assertThat(cached.join()).map(KeyValue::value).contains("v2");
      assertThat(diskReads.runAll()).isZero();
    }
  }

  @Test
  void getOfAKeyJustWritten_answersFromTheWriteBuffer_onTheCallersThread() {
    try (EmbeddedStore store = reopened()) {
      store.blocking().set("new", "v");

      CompletableFuture<Optional<KeyValue>> read = store.get("new");

      assertThat(read).isCompleted();
      assertThat(read.join()).map(KeyValue::value).contains("v");
      assertThat(diskReads.runAll()).isZero();
    }
  }

  @Test
  void listThatNeedsTheDisk_runsOnThePool_andOnceCached_onTheCallersThread() {
    writeAndClose(3);
    try (EmbeddedStore store = reopened()) {
      CompletableFuture<Page> cold = store.list(ListQuery.prefix("k"));
      assertThat(cold).isNotDone();
      assertThat(diskReads.runAll()).isEqualTo(1);
      assertThat(cold.join().entries()).extracting(KeyValue::key).containsExactly("k0", "k1", "k2");

      CompletableFuture<Page> cached = store.list(ListQuery.prefix("k"));
      assertThat(cached).isCompleted();
      assertThat(cached.join().entries()).hasSize(3);
      assertThat(diskReads.runAll()).isZero();
    }
  }

  @Test
  void watchFromThePast_readsItsHistoryOnThePool_thenDeliversIt() throws Exception {
    writeAndClose(3);
    try (EmbeddedStore store = reopened()) {
      RecordingListener seen = new RecordingListener();
      Watch watch = store.watch(WatchQuery.prefix("k").fromRevision(1), seen);
      assertThat(watch.started()).isNotDone();

      assertThat(diskReads.runAll()).isEqualTo(1);

      assertThat(watch.started()).succeedsWithin(WAIT).isEqualTo(1L);
      assertThat(seen.next(3, WAIT))
          .extracting(e -> e.entry().value())
          .containsExactly("v0", "v1", "v2");
      watch.close();
    }
  }

  @Test
  void readWaitingForThePool_whenTheStoreCloses_failsAsClosed() {
    writeAndClose(3);
    EmbeddedStore store = reopened();
    CompletableFuture<Optional<KeyValue>> waiting = store.get("k1");

    store.close();
    diskReads.runAll();

    assertThatFailureOf(waiting, WAIT).hasCode(KvException.Code.UNAVAILABLE);
  }

  /**
   * With the store's own pool: every key of a data set read cold, from several threads, is right.
   */
  @Test
  void coldReadsOnTheStoresPool_answerEveryKeyRight() {
    int keys = 20_000;
    writeAndClose(keys);
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      List<CompletableFuture<Optional<KeyValue>>> reads =
          IntStream.range(0, keys).parallel().mapToObj(i -> store.get("k" + i)).toList();

      for (int i = 0; i < keys; i++) {
        Optional<KeyValue> found = reads.get(i).orTimeout(30, TimeUnit.SECONDS).join();
        assertThat(found).as("k" + i).map(KeyValue::value).contains("v" + i);
      }
      assertThat(store.blocking().get("missing")).isEmpty();
    }
  }

  /** Writes keys {@code k0}.. with values {@code v0}.., in one batch, and closes the store. */
  private void writeAndClose(int keys) {
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      CompletableFuture.allOf(
              IntStream.range(0, keys)
                  .mapToObj(i -> store.set("k" + i, "v" + i))
                  .toArray(CompletableFuture[]::new))
          .orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS)
          .join();
    }
  }

  private EmbeddedStore reopened() {
    return EmbeddedStore.builder().dataDir(dataDir).diskReads(diskReads).build();
  }

  /** A pool whose tasks wait until the test runs them, on its own thread. */
  private static final class HeldTasks extends AbstractExecutorService {
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private volatile boolean shutdown;

    /** Runs the tasks held, and those they add. */
    int runAll() {
      int ran = 0;
      for (Runnable task = tasks.poll(); task != null; task = tasks.poll()) {
        task.run();
        ran++;
      }
      return ran;
    }

    @Override
    public void execute(Runnable task) {
      if (shutdown) {
        throw new RejectedExecutionException("shut down");
      }
      tasks.add(task);
    }

    @Override
    public void shutdown() {
      shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
      shutdown = true;
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return true;
    }
  }
}
