package dev.kv.envoy;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.grpc.CuttingProxy;
import dev.kv.core.remote.RemoteStore;
import java.time.Duration;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A replica whose store goes away answers NOT_SERVING to Envoy's health checks, which take it out
 * of rotation while the other replica serves every call; once its store is back, so is the replica.
 * Its store is etcd through a proxy that the test cuts: the other replica still reaches etcd, and
 * the data stays one.
 */
@Timeout(600)
class StoreOutageTest {

  private static final int WORKERS = 4;

  /**
   * envoy.yaml checks every 2 s, with a 1 s timeout, and takes a replica out after 2 failures;
   * kv-server checks its store every second, each check waiting up to its etcd timeout (5 s). The
   * bound is far above their sum: the test asserts that it happens, and prints how long it took.
   */
  private static final Duration ROTATION_CHANGES_WITHIN = Duration.ofSeconds(60);

  @RegisterExtension static final RunningSystem running = new RunningSystem(2, 1);

  @Test
  void replicaWithoutItsStore_leavesRotation_whileCallsSucceed_andComesBack() throws Exception {
    LocalSystem system = running.system();
    try (CuttingProxy etcd = CuttingProxy.to(system.etcdMember(1))) {
      system.stop("kv-server-2");
      // On the command line, which wins over the script's environment; the proxy forwards any
      // authority, so the replica sends its default one.
      system.start("kv-server-2", "--etcd-endpoints=http://" + etcd.address(), "--etcd-authority=");
      try (RemoteStore replica =
          RemoteStore.connect(system.replica(2), RunningSystem.CALL_TIMEOUT)) {
        SteadyLoad whileInRotation = SteadyLoad.start(running.client(), "outage/", WORKERS);
        Thread.sleep(2_000);
        long cut = System.nanoTime();
        etcd.cut();
        Duration left = awaitFlags(system, cut, flags -> !flags.equals("healthy"));
        String leftWith = system.healthFlags(2);
        Duration failedChecks =
            awaitFlags(system, cut, flags -> flags.contains("/failed_active_hc"));
        whileInRotation.stop().print("kv-server-2's store cut, until its health checks failed");
        assertThatFailureOf(replica.checkHealth()).hasMessageContaining("NOT_SERVING");

        SteadyLoad whileOut = SteadyLoad.start(running.client(), "out/", WORKERS);
        Thread.sleep(3_000);
        long reopened = System.nanoTime();
        etcd.reopen();
        Duration back = awaitFlags(system, reopened, flags -> flags.equals("healthy"));
        long before = system.requestsTo(2);
        Thread.sleep(3_000);
        whileOut.stop().print("kv-server-2 out of rotation, its store back, back in rotation");
        long reached = system.requestsTo(2) - before;
        System.out.printf(
            "kv-server-2's store cut: out of rotation after %d ms (%s), its health checks failed"
                + " after %d ms; store reopened: back in rotation after %d ms, then %d calls"
                + " reached it%n",
            left.toMillis(), leftWith, failedChecks.toMillis(), back.toMillis(), reached);

        // Envoy tries reads again on the other replica; writes sent to this one before it left
        // may fail, and are reported above.
        assertThat(whileInRotation.reads.failures()).as("failed reads").isEmpty();
        assertThat(whileInRotation.writes.failures().keySet())
            .as("failed writes")
            .isSubsetOf("UNAVAILABLE");
        assertThat(whileOut.reads.failures()).as("failed reads").isEmpty();
        assertThat(whileOut.writes.failures()).as("failed writes").isEmpty();
        assertThat(whileInRotation.lostWrites()).as("acknowledged writes lost").isEmpty();
        assertThat(whileOut.lostWrites()).as("acknowledged writes lost").isEmpty();
        assertThat(reached).as("calls that reached kv-server-2 once back").isGreaterThan(10);
      } finally {
        system.stop("kv-server-2");
        system.start("kv-server-2");
      }
    }
  }

  /** Waits until replica 2's health flags in Envoy pass {@code test}; returns the time since. */
  private static Duration awaitFlags(LocalSystem system, long since, Predicate<String> test) {
    Awaitility.await()
        .atMost(ROTATION_CHANGES_WITHIN)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> test.test(system.healthFlags(2)));
    return Duration.ofNanos(System.nanoTime() - since);
  }
}
