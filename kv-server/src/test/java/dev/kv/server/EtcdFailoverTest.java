package dev.kv.server;

import static dev.kv.core.KvFailureAssert.assertThatKvException;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.etcd.EtcdCluster;
import dev.kv.core.etcd.EtcdStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A client keeps writing through kv-server while members of a three-member etcd cluster go away:
 * first one the server uses is stopped, then the leader crashes (SIGKILL, so that it cannot hand
 * its leadership over). No acknowledged write may be lost, every failure must reach the client as
 * an error, and the service must answer again within seconds.
 */
@Timeout(180)
class EtcdFailoverTest {

  private static final Duration RECOVERY_LIMIT = Duration.ofSeconds(10);

  @Test
  void losingAMemberThenTheLeader_losesNoAcknowledgedWrite() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.ofMembers(3).start();
        EtcdBackedServerTest.Running server =
            EtcdBackedServerTest.Running.on(etcd, Duration.ofSeconds(2));
        Writer writer = new Writer(server.client)) {
      writer.start();
      writer.awaitAcknowledged(20);

      Phase memberStopped = writer.measure("member 0 stopped", () -> etcd.stop(0));
      etcd.restart(0);
      writer.awaitAcknowledged(writer.acknowledged.size() + 20);
      int leader = etcd.leader();
      Phase leaderStopped =
          writer.measure("leader (member " + leader + ") killed", () -> etcd.kill(leader));
      writer.stop();

      for (Phase phase : List.of(memberStopped, leaderStopped)) {
        System.out.println("failover: " + phase);
        assertThat(phase.recovery()).isLessThan(RECOVERY_LIMIT);
      }
      System.out.printf(
          "failover: in all %d writes acknowledged, %d reported failed%n",
          writer.acknowledged.size(), writer.failed.size());
      assertThat(writer.failed.values())
          .allSatisfy(error -> assertThatKvException(error).isUnreachable());
      try (KvStore direct = EtcdStore.builder().endpoints(etcd.endpoints()).build()) {
        for (String key : writer.acknowledged) {
          assertThat(direct.blocking().get(key)).as(key).contains(Writer.valueOf(key));
        }
      }
    }
  }

  /** What one stop did to the writes. */
  record Phase(String event, int acknowledged, int failed, Duration recovery) {
    @Override
    public String toString() {
      return String.format(
          "%s: %d writes acknowledged and %d reported failed until writes flowed for 2s "
              + "without a failure; answering again %d ms after the stop",
          event, acknowledged, failed, recovery.toMillis());
    }
  }

  /** One client writing distinct keys in a loop, as fast as the service answers. */
  private static final class Writer implements AutoCloseable {
    final KvStore client;
    final List<String> acknowledged = new CopyOnWriteArrayList<>();
    final Map<String, KvException> failed = new ConcurrentHashMap<>();
    final List<Long> acknowledgedAt = new CopyOnWriteArrayList<>();
    final List<Long> failedAt = new CopyOnWriteArrayList<>();
    final AtomicBoolean running = new AtomicBoolean(true);
    final Thread thread = new Thread(this::run, "failover-writer");

    Writer(KvStore client) {
      this.client = client;
    }

    static String valueOf(String key) {
      return "value of " + key;
    }

    void start() {
      thread.start();
    }

    private void run() {
      for (int i = 0; running.get(); i++) {
        String key = "failover/" + i;
        try {
          client.blocking().set(key, valueOf(key));
          acknowledged.add(key);
          acknowledgedAt.add(System.nanoTime());
        } catch (KvException e) {
          failed.put(key, e);
          failedAt.add(System.nanoTime());
        }
      }
    }

    void awaitAcknowledged(int count) {
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(20))
          .failFast(() -> !thread.isAlive())
          .untilAsserted(
              () ->
                  assertThat(acknowledged)
                      .as("writes acknowledged; failures: %s", failed.values())
                      .hasSizeGreaterThanOrEqualTo(count));
    }

    interface Action {
      void run() throws Exception;
    }

    /**
     * Runs {@code stop}, then watches the writes until they have gone through for two seconds
     * without a failure. Recovery is the time from the stop to the first acknowledged write after
     * the last failure.
     */
    Phase measure(String event, Action stop) throws Exception {
      int acknowledgedBefore = acknowledged.size();
      int failedBefore = failed.size();
      long stoppedAt = System.nanoTime();
      stop.run();
      long deadline = stoppedAt + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline && !flowingSince(lastFailureSince(stoppedAt))) {
        Thread.sleep(50);
      }
      long lastFailure = lastFailureSince(stoppedAt);
      long recoveredAt =
          acknowledgedAt.stream()
              .filter(at -> at >= lastFailure)
              .min(Long::compare)
              .orElseThrow(() -> new AssertionError(event + ": no write succeeded afterwards"));
      return new Phase(
          event,
          acknowledged.size() - acknowledgedBefore,
          failed.size() - failedBefore,
          Duration.ofNanos(recoveredAt - stoppedAt));
    }

    /** Whether writes have succeeded, and none failed, for two seconds after {@code since}. */
    private boolean flowingSince(long since) {
      return System.nanoTime() - since >= Duration.ofSeconds(2).toNanos()
          && acknowledgedAt.stream().anyMatch(at -> at >= since);
    }

    private long lastFailureSince(long since) {
      return failedAt.stream().filter(at -> at >= since).max(Long::compare).orElse(since);
    }

    /** Stops writing, and waits for the write in progress to end. */
    void stop() {
      running.set(false);
      try {
        thread.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void close() {
      stop();
    }
  }
}
