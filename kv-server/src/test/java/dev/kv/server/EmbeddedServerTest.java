package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KeyValue;
import dev.kv.core.KvStore;
import dev.kv.core.ListQuery;
import dev.kv.core.RecordingListener;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import dev.kv.core.remote.RemoteStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kv-server on its default store, the embedded one, as a process of its own: stopped and started
 * again, and killed with SIGKILL in the middle of a write load.
 *
 * <p>The timeout is a bound for busy machines: the kill test took 140 s on two cores shared with a
 * CPU hog.
 */
@Timeout(360)
class EmbeddedServerTest {

  /** The clients' deadline: generous, for the first calls to a server just started. */
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path dataDir;

  @Test
  void restarted_servesEverythingWrittenBefore_timesToLiveIncluded() throws Exception {
    KeyValue plain;
    KeyValue expiring;
    long lastRevision;
    try (DaemonProcess server = start();
        KvStore client = RemoteStore.connect(server.awaitListening(), TIMEOUT)) {
      client.blocking().set("config/a", "1");
      client.blocking().set("config/b", "2");
      client.blocking().set("gone", "soon", Duration.ofSeconds(2));
      lastRevision = client.blocking().set("lease", "later", Duration.ofHours(1));
      plain = client.blocking().entry("config/a").orElseThrow();
      expiring = client.blocking().entry("lease").orElseThrow();
      assertThat(server.terminate()).isZero();
    }
    Thread.sleep(2_500); // "gone" expires while no server runs

    try (DaemonProcess server = start();
        KvStore client = RemoteStore.connect(server.awaitListening(), TIMEOUT)) {
      assertThat(client.blocking().entry("config/a")).contains(plain);
      assertThat(client.blocking().get("config/b")).contains("2");
      assertThat(client.blocking().entry("lease")).contains(expiring);
      assertThat(client.blocking().get("gone")).isEmpty();
      assertThat(client.blocking().list(ListQuery.prefix("")).entries())
          .extracting(KeyValue::key)
          .containsExactly("config/a", "config/b", "lease");
      RecordingListener changes = new RecordingListener();
      client.watch(WatchQuery.prefix("config/").fromRevision(1), changes);
      assertThat(changes.next(2, TIMEOUT))
          .extracting(WatchEvent::type, event -> event.entry().key())
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(WatchEvent.Type.PUT, "config/a"),
              org.assertj.core.groups.Tuple.tuple(WatchEvent.Type.PUT, "config/b"));
      // the expiry took one revision after the last write
      assertThat(client.blocking().set("after", "restart")).isEqualTo(lastRevision + 2);
    }
  }

  @Test
  void killedUnderWriteLoad_keepsEveryAcknowledgedWrite_andOpensWithoutRepair() throws Exception {
    Map<String, Long> acknowledged = new ConcurrentHashMap<>();
    AtomicInteger unanswered = new AtomicInteger();
    long lastRevision = 0;
    for (int round = 0; round < 3; round++) {
      try (DaemonProcess server = start();
          KvStore client = RemoteStore.connect(server.awaitListening(), TIMEOUT)) {
        // Everything acknowledged in the rounds before is there, at its revision.
        assertEveryAcknowledgedWriteIsThere(client, acknowledged);
        assertThat(client.blocking().set("round", String.valueOf(round)))
            .isGreaterThan(lastRevision);

        Load load = new Load(client, "r" + round + "/", acknowledged, unanswered);
        load.start();
        load.awaitAcknowledged(500);
        server.kill();
        load.stop();
        lastRevision = acknowledged.values().stream().mapToLong(Long::longValue).max().orElse(0);
      }
    }
    try (DaemonProcess server = start();
        KvStore client = RemoteStore.connect(server.awaitListening(), TIMEOUT)) {
      assertEveryAcknowledgedWriteIsThere(client, acknowledged);
      System.out.printf(
          "crash: %d writes acknowledged over 3 kills, all found after; %d failed, sent as it died%n",
          acknowledged.size(), unanswered.get());
    }
  }

  private static void assertEveryAcknowledgedWriteIsThere(
      KvStore client, Map<String, Long> acknowledged) {
    List<String> missing = new ArrayList<>();
    acknowledged.forEach(
        (key, revision) -> {
          var entry = client.blocking().entry(key);
          if (entry.isEmpty() || entry.get().modRevision() != revision) {
            missing.add(key + "@" + revision + " -> " + entry);
          }
        });
    assertThat(missing).as("acknowledged writes missing after a crash").isEmpty();
  }

  private DaemonProcess start() throws Exception {
    return DaemonProcess.startMain("--listen", "127.0.0.1:0", "--data-dir", dataDir.toString());
  }

  /** Keeps 64 writes of new keys in flight, recording those the server acknowledged. */
  private static final class Load {
    private final KvStore client;
    private final String prefix;
    private final Map<String, Long> acknowledged;
    private final AtomicInteger unanswered;
    private final Semaphore inFlight = new Semaphore(64);
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger acknowledgedHere = new AtomicInteger();
    private final Thread thread = new Thread(this::run, "write-load");

    Load(KvStore client, String prefix, Map<String, Long> acknowledged, AtomicInteger unanswered) {
      this.client = client;
      this.prefix = prefix;
      this.acknowledged = acknowledged;
      this.unanswered = unanswered;
    }

    void start() {
      thread.start();
    }

    private void run() {
      for (int i = 0; running.get(); i++) {
        inFlight.acquireUninterruptibly();
        String key = prefix + i;
        CompletableFuture<Long> write = client.set(key, "value of " + key);
        write.whenComplete(
            (revision, error) -> {
              if (error == null) {
                acknowledged.put(key, revision);
                acknowledgedHere.incrementAndGet();
              } else {
                unanswered.incrementAndGet();
              }
              inFlight.release();
            });
      }
    }

    void awaitAcknowledged(int count) {
      Awaitility.await(count + " writes acknowledged")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(10))
          .until(() -> acknowledgedHere.get() >= count);
    }

    /** Stops writing once every write sent has an answer (the server is gone: an error). */
    void stop() throws InterruptedException {
      running.set(false);
      thread.join();
      inFlight.acquire(64);
    }
  }
}
