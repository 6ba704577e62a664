package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.kv.api.GetRequest;
import dev.kv.api.SetRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** docs/grafana-dashboard.json asks only for metrics that kv-server serves. */
@Timeout(120)
class GrafanaDashboardTest {

  private static final Path DASHBOARD =
      Path.of(System.getProperty("kv.root")).resolve("docs/grafana-dashboard.json");

  private static final Pattern METRIC = Pattern.compile("\\b(?:kv|jvm|process)_[a-z0-9_]+\\b");

  /**
   * TO REMOVE AT MERGE with the stores' metrics (branch obs-store): the names that kv-core's stores
   * serve once given the registry, as agreed for issue 18, which this branch's kv-server does not
   * serve yet. Once merged, the test should ask a kv-server whose stores serve them instead.
   */
  private static final Set<String> SERVED_BY_THE_STORES =
      Set.of(
          "kv_store_operations_seconds_bucket",
          "kv_store_operations_seconds_count",
          "kv_cache_hits_total",
          "kv_cache_misses_total",
          "kv_cache_evictions_total",
          "kv_cache_size",
          "kv_cache_live",
          "kv_etcd_calls_total",
          "kv_etcd_retries_total",
          "kv_etcd_reconnects_total",
          "kv_etcd_token_renewals_total",
          "kv_etcd_read_batch_size_sum",
          "kv_etcd_read_batch_size_count",
          "kv_etcd_member_in_use",
          "kv_embedded_writes_seconds_bucket",
          "kv_embedded_commit_batch_size_sum",
          "kv_embedded_commit_batch_size_count",
          "kv_embedded_disk_size_bytes",
          "kv_embedded_pending_compaction_bytes",
          "kv_embedded_write_stalls");

  @Test
  void everyMetricTheDashboardQueries_isServedOnMetrics() throws Exception {
    Set<String> queried = queriedMetrics();
    assertThat(queried).as("metrics the dashboard queries").hasSizeGreaterThan(20);

    Set<String> served;
    try (AdminDaemon daemon = AdminDaemon.start("--store", "memory")) {
      daemon.kv().set(SetRequest.newBuilder().setKey("k").setValue("v").build());
      daemon.kv().get(GetRequest.newBuilder().setKey("k").build());
      served = new TreeSet<>(daemon.admin.scrape().names());
    }
    served.addAll(SERVED_BY_THE_STORES);

    assertThat(served).containsAll(queried);
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
