package dev.kv.envoy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A replica goes away under steady load through Envoy, on two replicas and a three-member etcd:
 * killed, reads are retried on the other replica and no acknowledged write is lost; stopped, it
 * drains and no call fails at all.
 */
@Timeout(600)
class ReplicaFailoverTest {

  private static final int WORKERS = 6;
  private static final Duration BEFORE = Duration.ofSeconds(5);
  private static final Duration AFTER = Duration.ofSeconds(5);

  @RegisterExtension static final RunningSystem running = new RunningSystem(2, 3);

  @Test
  void killedReplica_underLoad_everyReadSucceeds_andNoAcknowledgedWriteIsLost() throws Exception {
    SteadyLoad load = SteadyLoad.start(running.client(), "killed/", WORKERS);
    Thread.sleep(BEFORE.toMillis());
    running.system().kill("kv-server-2");
    Thread.sleep(AFTER.toMillis());
    load.stop().print("SIGKILL of kv-server-2 under load");

    assertThat(load.reads.failures()).as("failed reads").isEmpty();
    // Only a write in flight on the killed replica may fail, as UNAVAILABLE (its fate unknown):
    // one per worker at most. Writes sent to it afterwards fail to connect, and Envoy tries them
    // on the other replica.
    assertThat(load.writes.failures().keySet()).as("failed writes").isSubsetOf("UNAVAILABLE");
    assertThat(load.writes.failed()).as("failed writes").isLessThanOrEqualTo(WORKERS);
    assertThat(load.lostWrites()).as("acknowledged writes lost").isEmpty();
    assertThat(load.acknowledgedWrites()).isGreaterThan(100);
  }

  @Test
  void stoppedReplica_underLoad_drains_andNoCallFails() throws Exception {
    SteadyLoad load = SteadyLoad.start(running.client(), "stopped/", WORKERS);
    Thread.sleep(BEFORE.toMillis());
    long stopping = System.nanoTime();
    running.system().stop("kv-server-1");
    long stopped = System.nanoTime();
    Thread.sleep(AFTER.toMillis());
    load.stop().print("SIGTERM of kv-server-1 under load");
    System.out.printf(
        "SIGTERM of kv-server-1: stopped %d ms after the signal%n",
        Duration.ofNanos(stopped - stopping).toMillis());

    assertThat(load.reads.failures()).as("failed reads").isEmpty();
    assertThat(load.writes.failures()).as("failed writes").isEmpty();
    assertThat(load.lostWrites()).as("acknowledged writes lost").isEmpty();
    assertThat(load.acknowledgedWrites()).isGreaterThan(100);
  }
}
