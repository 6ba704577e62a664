package dev.kv.envoy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.server.CommandRun;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The original topology with the real Envoy, as {@code envoy/local.sh} runs it: a three-member
 * etcd, two kv-server replicas that reach it through Envoy's etcd listener, and Envoy's kv listener
 * in front of them.
 */
@Timeout(300)
class EnvoyDeploymentTest {

  @RegisterExtension static final RunningSystem running = new RunningSystem(2, 3);

  @Test
  void calls_throughEnvoy_areSpreadOverTheReplicas() throws Exception {
    // On a loaded machine a health check may time out twice and take a replica out for a moment:
    // measured again then, up to three times, always with both in rotation before and after.
    long[] spread = {};
    for (int attempt = 1; attempt <= 3; attempt++) {
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> running.system().inRotation(1) && running.system().inRotation(2));
      spread = spreadOf200Calls();
      if (running.system().inRotation(1) && running.system().inRotation(2)) {
        break;
      }
    }

    assertThat(spread[0] + spread[1]).isGreaterThanOrEqualTo(200);
    // Round robin: each replica takes about half, at least a quarter. Enough calls that a moment
    // in which one replica took them all (seen once in 40 calls under load) does not decide it.
    assertThat(spread[0]).isBetween(50L, 150L);
    assertThat(spread[1]).isBetween(50L, 150L);
  }

  /** How many of 100 Sets and 100 Gets through Envoy each replica took. */
  private static long[] spreadOf200Calls() throws Exception {
    long[] before = {running.system().requestsTo(1), running.system().requestsTo(2)};
    for (int i = 0; i < 100; i++) {
      running.client().blocking().set("spread/" + i, "v" + i);
    }
    for (int i = 0; i < 100; i++) {
      assertThat(running.client().blocking().get("spread/" + i)).contains("v" + i);
    }
    return new long[] {
      running.system().requestsTo(1) - before[0], running.system().requestsTo(2) - before[1]
    };
  }

  @Test
  void kvToEtcd_throughEnvoy_withTheAuthority() throws Exception {
    String etcd = "http://" + running.system().etcd();

    assertThat(
            KvProcess.run(
                "--etcd-endpoints", etcd, "--etcd-authority", "etcd", "set", "direct", "yes"))
        .isEqualTo(new CommandRun(0, "", ""));
    assertThat(KvProcess.run("--etcd-endpoints", etcd, "--etcd-authority", "etcd", "get", "direct"))
        .isEqualTo(new CommandRun(0, "yes\n", ""));
    // The replicas keep their data in the same etcd, through the same listener.
    assertThat(running.client().blocking().get("direct")).contains("yes");
  }

  @Test
  void kvToEtcd_throughEnvoy_withoutTheAuthority_failsWithOneClearLine() throws Exception {
    String etcd = "http://" + running.system().etcd();

    assertThat(KvProcess.run("--etcd-endpoints", etcd, "get", "direct"))
        .isEqualTo(
            new CommandRun(
                3,
                "",
                "kv: etcd at "
                    + etcd
                    + " does not serve this call; if a proxy is in between, check the authority"
                    + " it routes on\n"));
  }
}
