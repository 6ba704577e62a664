package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.kv.core.KvStore;
import dev.kv.core.config.HostPort;
import dev.kv.core.remote.RemoteStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The daemon's log as users read it: its formats, its start and stop lines, its access log. */
@Timeout(120)
class LogOutputTest {

  @Test
  void json_oneObjectPerLine_withTheStartLinesAndCallsFields() throws Exception {
    try (DaemonProcess daemon =
        DaemonProcess.startMain(
            "--listen",
            "127.0.0.1:0",
            "--store",
            "memory",
            "--log-format",
            "json",
            "--access-log")) {
      HostPort address = daemon.awaitListening();
      set(address);
      daemon.awaitLine(Pattern.compile("\"method\":\"kv.KV/Set\""));
      assertThat(daemon.terminate()).isZero();
      daemon.awaitLine(Pattern.compile("\"message\":\"stopped\""));

      List<JsonObject> lines =
          daemon
              .output()
              .lines()
              .map(line -> JsonParser.parseString(line).getAsJsonObject())
              .toList();
      assertThat(lines)
          .allSatisfy(
              line -> assertThat(line.keySet()).contains("time", "level", "logger", "message"));
      JsonObject started = only(lines, "listening on");
      assertThat(started.get("logger").getAsString()).isEqualTo("dev.kv.server.Main");
      assertThat(started.get("level").getAsString()).isEqualTo("INFO");
      assertThat(started.get("store").getAsString()).isEqualTo("memory");
      assertThat(started.get("tls").getAsString()).isEqualTo("off");
      assertThat(started.get("auth").getAsString()).isEqualTo("none");
      JsonObject call =
          lines.stream()
              .filter(line -> line.has("method"))
              .filter(line -> line.get("method").getAsString().equals("kv.KV/Set"))
              .findFirst()
              .orElseThrow();
      assertThat(call.get("logger").getAsString()).isEqualTo("dev.kv.server.AccessLog");
      assertThat(call.get("status").getAsString()).isEqualTo("OK");
      assertThat(call.get("duration_ms").getAsDouble()).isPositive();
      assertThat(call.get("peer").getAsString()).startsWith("127.0.0.1:");
    }
  }

  @Test
  void text_fromTheEnvironment_withTheAccessLog() throws Exception {
    try (DaemonProcess daemon =
        DaemonProcess.startMain(
            Map.of("KV_LOG_FORMAT", "text", "KV_ACCESS_LOG", "true", "KV_STORE", "memory"),
            "--listen",
            "127.0.0.1:0")) {
      set(daemon.awaitListening());
      daemon.awaitLine(
          Pattern.compile(
              "^\\S+ \\S+ INFO  dev\\.kv\\.server\\.AccessLog: call method=\"kv\\.KV/Set\""
                  + " status=\"OK\" duration_ms=\"[0-9.]+\" peer=\"127\\.0\\.0\\.1:\\d+\"$"));
      assertThat(daemon.terminate()).isZero();
      daemon.awaitLine(Pattern.compile("INFO  dev\\.kv\\.server\\.Main: stopped$"));
      assertThat(daemon.output())
          .containsPattern(
              "INFO  dev\\.kv\\.server\\.Main: kv-server \\S+ listening on 127\\.0\\.0\\.1:\\d+"
                  + " store=\"memory\" tls=\"off\" auth=\"none\"\n");
    }
  }

  @Test
  void accessLog_offByDefault() throws Exception {
    try (DaemonProcess daemon =
        DaemonProcess.startMain("--listen", "127.0.0.1:0", "--store", "memory")) {
      set(daemon.awaitListening());
      assertThat(daemon.terminate()).isZero();
      daemon.awaitLine(Pattern.compile("stopped$"));
      assertThat(daemon.output()).doesNotContain("AccessLog", "kv.KV/Set");
    }
  }

  private static void set(HostPort address) {
    try (KvStore client = RemoteStore.connect(address, Duration.ofSeconds(30))) {
      client.blocking().set("k", "v");
    }
  }

  private static JsonObject only(List<JsonObject> lines, String message) {
    List<JsonObject> matching =
        lines.stream().filter(line -> line.get("message").getAsString().contains(message)).toList();
    assertThat(matching).hasSize(1);
    return matching.get(0);
  }
}
