package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.kv.core.ListQuery;
import dev.kv.core.config.HostPort;
import dev.kv.core.memory.MemoryStore;
import dev.kv.server.CommandRun;
import dev.kv.server.KvServer;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code kv bench} on a tiny workload: it runs, and what it reports is consistent. */
@Timeout(60)
class BenchCommandTest {

  private MemoryStore store;
  private KvServer server;

  @BeforeEach
  void startServer() throws Exception {
    store = new MemoryStore();
    server = KvServer.listeningOn(new HostPort("127.0.0.1", 0), store).start();
  }

  @AfterEach
  void stopServer() throws Exception {
    server.stop(Duration.ZERO);
    store.close();
  }

  @Test
  void getWorkload_writesItsKeysFirst_andReportsEveryCallAsJson() {
    CommandRun run = kv("-o", "json", "bench", "--ops", "300", "-c", "4", "--keys", "20");

    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonObject result = JsonParser.parseString(run.out()).getAsJsonObject();
    assertThat(result.get("workload").getAsString()).isEqualTo("get");
    assertThat(result.get("calls").getAsLong()).isEqualTo(300);
    assertThat(result.getAsJsonObject("errors").size()).isZero();
    double seconds = result.get("seconds").getAsDouble();
    assertThat(result.get("callsPerSecond").getAsDouble())
        .isCloseTo(300 / seconds, org.assertj.core.data.Percentage.withPercentage(1));
    JsonObject micros = result.getAsJsonObject("latencyMicros");
    long p50 = micros.get("p50").getAsLong();
    long p99 = micros.get("p99").getAsLong();
    long max = micros.get("max").getAsLong();
    assertThat(p50).isPositive().isLessThanOrEqualTo(p99);
    assertThat(p99).isLessThanOrEqualTo(max);
    assertThat(max).isLessThanOrEqualTo((long) (seconds * 1_000_000) + 1);
    assertThat(store.blocking().list(ListQuery.prefix("bench/")).entries()).hasSize(20);
  }

  @Test
  void setWorkload_forADuration_printsAReportForPeople() {
    CommandRun run =
        kv("bench", "--workload", "set", "--duration", "300ms", "-c", "2", "--value-size", "8");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out().lines())
        .hasSize(4)
        .satisfies(
            lines -> {
              assertThat(lines.get(0))
                  .isEqualTo("workload   set, 2 in flight, 1,000 keys, 8-byte values");
              assertThat(lines.get(1)).startsWith("calls      ").contains("/s");
              assertThat(lines.get(2)).startsWith("latency    p50 ").contains("p99.9", "max");
              assertThat(lines.get(3)).isEqualTo("errors     none");
            });
    assertThat(store.blocking().list(ListQuery.prefix("bench/")).entries())
        .isNotEmpty()
        .allSatisfy(entry -> assertThat(entry.value()).isEqualTo("v".repeat(8)));
  }

  @Test
  void unreachableTarget_exitsThreeWithOneLine() {
    CommandRun run =
        CommandRun.execute(
            Cli.commandLine(),
            "--server",
            "127.0.0.1:1",
            "bench",
            "--ops",
            "5",
            "--workload",
            "set");

    assertThat(run)
        .isEqualTo(
            new CommandRun(
                3,
                "",
                "kv: every call failed; the first: cannot reach kv-server at 127.0.0.1:1\n"));
  }

  @Test
  void invalidOptions_exitTwo() {
    assertThat(kv("bench", "--concurrency", "0").exitCode()).isEqualTo(2);
    assertThat(kv("bench", "--read-share", "1.5", "--workload", "mix").exitCode()).isEqualTo(2);
    assertThat(kv("bench", "--workload", "scan").exitCode()).isEqualTo(2);
  }

  private CommandRun kv(String... args) {
    String[] withServer = new String[args.length + 2];
    withServer[0] = "--server";
    withServer[1] = server.address().toString();
    System.arraycopy(args, 0, withServer, 2, args.length);
    return CommandRun.execute(Cli.commandLine(), withServer);
  }
}
