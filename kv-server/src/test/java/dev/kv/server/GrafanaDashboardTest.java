package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.kv.api.GetRequest;
import dev.kv.api.SetRequest;
import dev.kv.core.etcd.EtcdCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** docs/grafana-dashboard.json asks only for metrics that kv-server serves. */
@Timeout(120)
class GrafanaDashboardTest {

  private static final Path DASHBOARD =
      Path.of(System.getProperty("kv.root")).resolve("docs/grafana-dashboard.json");

  private static final Pattern METRIC = Pattern.compile("\\b(?:kv|jvm|process)_[a-z0-9_]+\\b");

  @RegisterExtension static final EtcdCluster etcd = EtcdCluster.ofMembers(1);

  @TempDir Path dataDir;

  @Test
  void everyMetricTheDashboardQueries_isServedOnMetrics() throws Exception {
    Set<String> queried = queriedMetrics();
    assertThat(queried).as("metrics the dashboard queries").hasSizeGreaterThan(20);

    // The metrics of every kind of store: the embedded one's, and etcd's with its read cache.
    Set<String> served = new TreeSet<>();
    served.addAll(servedAfterCalls("--store", "embedded", "--data-dir", dataDir.toString()));
    served.addAll(
        servedAfterCalls("--store", "etcd", "--etcd-endpoints", etcd.endpoints().toString()));

    assertThat(served).containsAll(queried);
  }

  /** What a kv-server started with {@code args} serves once it has taken a Set and a Get. */
  private static Set<String> servedAfterCalls(String... args) throws Exception {
    try (AdminDaemon daemon = AdminDaemon.start(args)) {
      daemon.kv().set(SetRequest.newBuilder().setKey("k").setValue("v").build());
      daemon.kv().get(GetRequest.newBuilder().setKey("k").build());
      daemon
          .kv()
          .get(
              GetRequest.newBuilder()
                  .setKey("k")
                  .setConsistency(dev.kv.api.Consistency.SERIALIZABLE)
                  .build());
      return new TreeSet<>(daemon.admin.scrape().names());
    }
  }

  /** The metric names in the dashboard's queries: its panels' and its variables'. */
  private static Set<String> queriedMetrics() throws Exception {
    Set<String> names = new TreeSet<>();
    collect(JsonParser.parseString(Files.readString(DASHBOARD)), names);
    return names;
  }

  private static void collect(JsonElement element, Set<String> names) {
    if (element.isJsonArray()) {
      element.getAsJsonArray().forEach(item -> collect(item, names));
    } else if (element.isJsonObject()) {
      JsonObject object = element.getAsJsonObject();
      for (Map.Entry<String, JsonElement> field : object.entrySet()) {
        boolean query = field.getKey().equals("expr") || field.getKey().equals("query");
        if (query && field.getValue().isJsonPrimitive()) {
          Matcher metric = METRIC.matcher(field.getValue().getAsString());
          while (metric.find()) {
            names.add(metric.group());
          }
        } else {
          collect(field.getValue(), names);
        }
      }
    }
  }
}
