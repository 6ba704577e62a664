package dev.kv.envoy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.RecordingListener;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.remote.RemoteStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A watch through Envoy's kv listener outlives the replica that carries it: when that replica stops
 * or dies, the client opens the watch again, through Envoy on another replica, from the revision
 * after the last change it got. Every change arrives once, in order.
 */
@Timeout(600)
class WatchThroughEnvoyTest {

  private static final int REPLICAS = 2;

  @RegisterExtension static final RunningSystem running = new RunningSystem(REPLICAS, 1);

  @Test
  void watch_acrossARestartOfEveryReplica_getsEveryChangeOnceInOrder() throws Exception {
    watchWhile(
        "kv-server-1 then kv-server-2 stopped and started again",
        "rolling/",
        system -> {
          for (int n = 1; n <= REPLICAS; n++) {
            system.stop("kv-server-" + n);
            system.start("kv-server-" + n);
            Thread.sleep(2_000);
          }
        });
  }

  @Test
  void watch_whoseReplicaIsKilled_getsEveryChangeOnceInOrder() throws Exception {
    watchWhile(
        "the replica carrying it killed and started again",
        "killed/",
        system -> {
          String carrier = "kv-server-" + carrierOfTheWatch(system);
          system.kill(carrier);
          Thread.sleep(3_000);
          system.start(carrier);
          Thread.sleep(2_000);
        });
  }

  interface Disruption {
    void run(LocalSystem system) throws Exception;
  }

  /**
   * Watches the keys under {@code prefix} through Envoy, from a known revision, while one writer
   * changes them before, during and after {@code disruption}; then checks that the watch delivered
   * every change once, in order, and never ended.
   */
  private static void watchWhile(String what, String prefix, Disruption disruption)
      throws Exception {
    LocalSystem system = running.system();
    long first = running.client().blocking().set(prefix + "first", "first");
    Recorder recorder = new Recorder();
    try (RemoteStore watcher = RemoteStore.connect(system.kv(), RunningSystem.CALL_TIMEOUT);
        Watch watch = watcher.watch(WatchQuery.prefix(prefix).fromRevision(first), recorder)) {
      assertThat(watch.started().get(60, TimeUnit.SECONDS)).isEqualTo(first);
      Writer writer = new Writer(running.client(), prefix);
      writer.start();
      Thread.sleep(2_000);
      disruption.run(system);
      writer.stop();

      List<WatchEvent> events = new ArrayList<>();
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                events.addAll(recorder.recorded.drain());
                return recorder.recorded.error().isDone()
                    || (!events.isEmpty()
                        && events.get(events.size() - 1).revision()
                            >= writer.lastAcknowledgedRevision);
              });
      System.out.printf(
          "watch through Envoy, %s: %d changes written, %d acknowledged, failed %s; %d events, the"
              + " watch interrupted %d times, ended with %s%n",
          what,
          writer.written.get(),
          writer.acknowledged.size(),
          writer.failed,
          events.size(),
          recorder.interruptions.get(),
          recorder.recorded.error().getNow(null));

      assertThat(recorder.recorded.error().getNow(null))
          .as("the error the watch ended with")
          .isNull();
      List<Long> revisions = events.stream().map(WatchEvent::revision).toList();
      assertThat(revisions)
          .as("revisions, each once and in order")
          .isSorted()
          .doesNotHaveDuplicates();
      Map<Long, String> delivered = new ConcurrentHashMap<>();
      events.forEach(e -> delivered.put(e.revision(), e.entry().key() + "=" + e.entry().value()));
      Map<Long, String> expected = new ConcurrentHashMap<>(writer.acknowledged);
      expected.put(first, prefix + "first=first");
      assertThat(delivered).as("changes delivered").containsAllEntriesOf(expected);
      // A write whose fate is unknown may have applied: then it was delivered too, once.
      assertThat(delivered.values())
          .as("changes delivered")
          .isSubsetOf(allOf(expected, writer.failed.keySet()));
      // Else the test proved nothing: the replica that carried the watch went away.
      assertThat(recorder.interruptions.get()).as("interruptions").isPositive();
    }
  }

  private static Set<String> allOf(Map<Long, String> acknowledged, Set<String> unknown) {
    Set<String> all = ConcurrentHashMap.newKeySet();
    all.addAll(acknowledged.values());
    unknown.forEach(key -> all.add(key + "=" + Writer.valueOf(key)));
    return all;
  }

  /**
   * The replica that carries the watch: the one with a request open in every sample, the watch's,
   * while the writes come and go.
   */
  private static int carrierOfTheWatch(LocalSystem system) throws Exception {
    List<Integer> carriers = new ArrayList<>();
    for (int n = 1; n <= REPLICAS; n++) {
      boolean alwaysOpen = true;
      for (int sample = 0; sample < 10 && alwaysOpen; sample++) {
        alwaysOpen = system.openRequestsTo(n) > 0;
        Thread.sleep(37);
      }
      if (alwaysOpen) {
        carriers.add(n);
      }
    }
    assertThat(carriers).as("replicas that carry the watch").hasSize(1);
    return carriers.get(0);
  }

  /** Writes one key after another, sequentially, so that each change has a revision of its own. */
  private static final class Writer {
    final KvStore store;
    final String prefix;
    final Map<Long, String> acknowledged = new ConcurrentHashMap<>();
    final Map<String, String> failed = new ConcurrentHashMap<>();
    final AtomicInteger written = new AtomicInteger();
    final Thread thread = new Thread(this::run, "watched-writer");
    volatile boolean running = true;
    volatile long lastAcknowledgedRevision;

    Writer(KvStore store, String prefix) {
      this.store = store;
      this.prefix = prefix;
    }

    static String valueOf(String key) {
      return "value of " + key;
    }

    void start() {
      thread.start();
    }

    void stop() throws InterruptedException {
      running = false;
      thread.join(60_000);
    }

    private void run() {
      for (int i = 0; running; i++) {
        String key = prefix + i;
        written.incrementAndGet();
        try {
          long revision = store.blocking().set(key, valueOf(key));
          acknowledged.put(revision, key + "=" + valueOf(key));
          lastAcknowledgedRevision = revision;
        } catch (KvException e) {
          failed.put(key, e.code().name());
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  /** What the watch delivered, recorded, and how often it lost its stream. */
  private static final class Recorder implements WatchListener {
    final RecordingListener recorded = new RecordingListener();
    final AtomicInteger interruptions = new AtomicInteger();

    @Override
    public void onEvent(WatchEvent event) {
      recorded.onEvent(event);
    }

    @Override
    public void onError(KvException failure) {
      recorded.onError(failure);
    }

    @Override
    public void onInterrupted() {
      interruptions.incrementAndGet();
    }
  }
}
