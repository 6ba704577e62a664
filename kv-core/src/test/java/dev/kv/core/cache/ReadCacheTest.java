package dev.kv.core.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KeyValue;
import dev.kv.core.KvStore;
import dev.kv.core.ReadConsistency;
import dev.kv.core.WatchEvent;
import dev.kv.core.memory.MemoryStore;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ReadCacheTest {

  /** A bound on waits that take milliseconds when the machine is not busy. */
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final MemoryStore behind = new MemoryStore();
  private final AtomicInteger reads = new AtomicInteger();
  private final List<ReadConsistency> consistencies =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile dev.kv.core.WatchListener cacheWatch;
  private ReadCache cache;

  @BeforeEach
  void open() {
    cache = ReadCache.over(counting(behind), 100);
    eventually().until(cache::isLive);
  }

  @AfterEach
  void close() {
    cache.close();
  }

  @Test
  void snapshot_isTheStoreBehinds() {
    Throwable behinds = failureOf(behind.snapshot(new ByteArrayOutputStream()));

    assertThat(failureOf(cache.snapshot(new ByteArrayOutputStream())))
        .hasMessage(behinds.getMessage());
  }

  private static Throwable failureOf(CompletableFuture<?> future) {
    return future.handle((result, error) -> error).orTimeout(30, TimeUnit.SECONDS).join();
  }

  @Test
  void serializableReadOfAKeyAlreadyRead_isAnsweredWithoutTheStore() {
    behind.blocking().set("hot", "value");
    // The write reaches the cache through its watch, at a time of its own: until then, a read
    // of the key may go to the store again.
    eventually()
        .until(
            () -> {
              int read = reads.get();
              assertThat(serializable("hot")).map(KeyValue::value).contains("value");
              return reads.get() == read;
            });
    int before = reads.get();

    for (int i = 0; i < 50; i++) {
      assertThat(serializable("hot")).map(KeyValue::value).contains("value");
    }

    assertThat(reads.get()).isEqualTo(before);
  }

  @Test
  void linearizableReads_alwaysGoToTheStore() {
    cache.blocking().set("k", "v");
    int before = reads.get();

    cache.blocking().get("k");
    cache.blocking().get("k");

    assertThat(reads.get()).isEqualTo(before + 2);
  }

  @Test
  void writeThroughTheCache_isSeenByTheNextSerializableRead_atOnce() {
    for (int i = 0; i < 200; i++) {
      cache.blocking().set("counter", String.valueOf(i));

      assertThat(serializable("counter")).map(KeyValue::value).contains(String.valueOf(i));
    }
  }

  @Test
  void concurrentWritersThroughTheCache_eachReadsItsOwnLastWrite() throws Exception {
    List<CompletableFuture<Void>> writers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      String key = "writer/" + w;
      writers.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < 300; i++) {
                  cache.blocking().set(key, String.valueOf(i));
                  assertThat(serializable(key)).map(KeyValue::value).contains(String.valueOf(i));
                  cache.blocking().delete(key);
                  assertThat(serializable(key)).isEmpty();
                }
              }));
    }

    assertThat(CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)))
        .succeedsWithin(WAIT);
  }

  @Test
  void changeMadeElsewhere_reachesTheCacheThroughTheWatch() {
    behind.blocking().set("elsewhere", "old");
    assertThat(serializable("elsewhere")).map(KeyValue::value).contains("old");

    behind.blocking().set("elsewhere", "new");

    eventually()
        .untilAsserted(
            () -> assertThat(serializable("elsewhere")).map(KeyValue::value).contains("new"));
    behind.blocking().delete("elsewhere");
    eventually().untilAsserted(() -> assertThat(serializable("elsewhere")).isEmpty());
  }

  @Test
  void keyFoundMissing_isNotKept_soThatItsCreationElsewhereIsSeenAtOnce() {
    assertThat(serializable("later")).isEmpty();

    behind.blocking().set("later", "here");

    assertThat(serializable("later")).map(KeyValue::value).contains("here");
  }

  @Test
  void fullCache_makesRoomForNewKeys() {
    for (int i = 0; i < 300; i++) {
      cache.blocking().set("many/" + i, "v");
      serializable("many/" + i);
    }

    assertThat(cache.size()).isLessThanOrEqualTo(100);
    assertThat(serializable("many/299")).map(KeyValue::value).contains("v");
  }

  @Test
  void whileTheWatchIsInterrupted_serializableReadsGoToTheStore_linearizably() {
    behind.blocking().set("k", "v");
    serializable("k");
    cacheWatch.onInterrupted();
    int before = reads.get();
    consistencies.clear();

    assertThat(serializable("k")).map(KeyValue::value).contains("v");

    assertThat(reads.get()).isEqualTo(before + 1);
    assertThat(consistencies).containsExactly(ReadConsistency.LINEARIZABLE);
    cacheWatch.onResumed();
    serializable("k");
    assertThat(reads.get()).as("answered from the cache again").isEqualTo(before + 1);
  }

  @Test
  void valueThatIsNotText_seenByTheWatch_isForgotten_andTheNextReadGoesToTheStore() {
    long written = behind.blocking().set("foreign", "text");
    eventually()
        .until(
            () -> {
              long hits = cache.hits();
              serializable("foreign");
              return cache.hits() == hits + 1;
            });

    cacheWatch.onEvent(
        new WatchEvent(
            WatchEvent.Type.PUT,
            KeyValue.binary("foreign", new byte[] {(byte) 0xff}, written, written + 1, 2)));
    int before = reads.get();
    long hits = cache.hits();

    assertThat(serializable("foreign")).map(KeyValue::isText).contains(true);
    assertThat(reads.get()).isEqualTo(before + 1);
    assertThat(cache.hits()).isEqualTo(hits);
    assertThat(cache.isLive()).isTrue();
  }

  private static ConditionFactory eventually() {
    return Awaitility.await().atMost(WAIT);
  }

  private Optional<KeyValue> serializable(String key) {
    return cache.get(key, ReadConsistency.SERIALIZABLE).join();
  }

  /** {@code store}, counting the reads that reach it. */
  private KvStore counting(KvStore store) {
    return (KvStore)
        Proxy.newProxyInstance(
            KvStore.class.getClassLoader(),
            new Class<?>[] {KvStore.class},
            (proxy, method, args) -> {
              if (method.getName().equals("get")) {
                reads.incrementAndGet();
                if (args.length == 2) {
                  consistencies.add((ReadConsistency) args[1]);
                }
              }
              if (method.getName().equals("watch") && cacheWatch == null) {
                cacheWatch = (dev.kv.core.WatchListener) args[1];
              }
              try {
                return method.invoke(store, args);
              } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }
}
