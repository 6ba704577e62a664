package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.kv.api.GetRequest;
import dev.kv.api.KVGrpc;
import dev.kv.api.SetRequest;
import dev.kv.api.WatchRequest;
import dev.kv.api.WatchResponse;
import dev.kv.core.etcd.EtcdCluster;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** kv-server's admin listener, asked over HTTP as Prometheus and Kubernetes probes do. */
@Timeout(180)
class AdminListenerTest {

  @Test
  void metrics_countCallsByMethodAndStatusCode() throws Exception {
    try (AdminDaemon daemon = AdminDaemon.start("--store", "memory")) {
      KVGrpc.KVBlockingStub kv = daemon.kv();
      for (int i = 0; i < 3; i++) {
        kv.set(SetRequest.newBuilder().setKey("k" + i).setValue("v").build());
      }
      kv.get(GetRequest.newBuilder().setKey("k0").build());
      StatusRuntimeException missing =
          catchThrowableOfType(
              StatusRuntimeException.class,
              () -> kv.get(GetRequest.newBuilder().setKey("missing").build()));
      assertThat(missing.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);

      AdminClient.Samples metrics = daemon.admin.scrape();

      String count = "kv_grpc_server_calls_seconds_count";
      assertThat(metrics.value(count, Map.of("method", "kv.KV/Set", "code", "OK"))).isEqualTo(3);
      assertThat(metrics.value(count, Map.of("method", "kv.KV/Get", "code", "OK"))).isEqualTo(1);
      assertThat(metrics.value(count, Map.of("method", "kv.KV/Get", "code", "NOT_FOUND")))
          .isEqualTo(1);
      assertThat(metrics.value(count, Map.of("method", "kv.KV/Get"))).isEqualTo(2);
      // A histogram: every call is in the +Inf bucket, and the buckets are in seconds.
      assertThat(
              metrics.value(
                  "kv_grpc_server_calls_seconds_bucket",
                  Map.of("method", "kv.KV/Set", "code", "OK", "le", "+Inf")))
          .isEqualTo(3);
      assertThat(metrics.value("kv_grpc_server_calls_seconds_sum", Map.of("method", "kv.KV/Set")))
          .isPositive()
          .isLessThan(30);
      assertThat(metrics.names())
          .contains(
              "jvm_memory_used_bytes",
              "jvm_threads_live_threads",
              "jvm_gc_pause_seconds_count",
              "process_cpu_usage",
              "process_files_open_files",
              "process_uptime_seconds");
    }
  }

  @Test
  void metrics_countWatchesEventsAndRefusalsByLimit() throws Exception {
    try (AdminDaemon daemon = AdminDaemon.start("--store", "memory", "--max-watches", "1")) {
      KVGrpc.KVStub async = KVGrpc.newStub(daemon.channel);
      LinkedBlockingQueue<Object> first = new LinkedBlockingQueue<>();
      LinkedBlockingQueue<Object> second = new LinkedBlockingQueue<>();
      async.watch(WatchRequest.newBuilder().setKey("w").build(), into(first));
      assertThat(((WatchResponse) first.poll(30, TimeUnit.SECONDS)).getCreated()).isTrue();
      async.watch(WatchRequest.newBuilder().setKey("w").build(), into(second));
      assertThat(Status.fromThrowable((Throwable) second.poll(30, TimeUnit.SECONDS)).getCode())
          .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      daemon.kv().set(SetRequest.newBuilder().setKey("w").setValue("1").build());
      daemon.kv().set(SetRequest.newBuilder().setKey("w").setValue("2").build());
      assertThat(first.poll(30, TimeUnit.SECONDS)).isInstanceOf(WatchResponse.class);
      assertThat(first.poll(30, TimeUnit.SECONDS)).isInstanceOf(WatchResponse.class);

      AdminClient.Samples metrics = daemon.admin.scrape();

      assertThat(metrics.value("kv_watches_open")).isEqualTo(1);
      assertThat(metrics.value("kv_watch_events_sent_total")).isEqualTo(2);
      assertThat(metrics.value("kv_watches_ended_lagging_total")).isZero();
      assertThat(metrics.value("kv_calls_refused_total", Map.of("limit", "watches"))).isEqualTo(1);
      assertThat(metrics.value("kv_calls_refused_total", Map.of("limit", "calls"))).isZero();
      assertThat(metrics.value("kv_calls_refused_total")).isEqualTo(1);
      assertThat(
              metrics.value(
                  "kv_grpc_server_calls_seconds_count",
                  Map.of("method", "kv.KV/Watch", "code", "RESOURCE_EXHAUSTED")))
          .isEqualTo(1);
    }
  }

  @Test
  void metrics_countAWatchEndedForLagging() throws Exception {
    try (AdminDaemon daemon = AdminDaemon.start("--store", "memory")) {
      StalledWatch stalled = StalledWatch.open(daemon.channel, "slow/");
      assertThat(stalled.created.get(30, TimeUnit.SECONDS)).isTrue();
      String large = "v".repeat(1 << 20);

      // Each set is 1 MiB more for a client that reads nothing: it falls 4 MiB behind, past
      // what flow control and the sockets take, within these.
      for (int i = 0; i < 24; i++) {
        daemon.kv().set(SetRequest.newBuilder().setKey("slow/k").setValue(i + large).build());
      }

      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> daemon.admin.scrape().value("kv_watches_ended_lagging_total") == 1);
      AdminClient.Samples metrics = daemon.admin.scrape();
      assertThat(metrics.value("kv_watches_open")).isZero();
      assertThat(metrics.value("kv_watch_events_sent_total")).isPositive();
    }
  }

  @Test
  void metrics_inOpenMetricsWhenTheScraperAsks() throws Exception {
    try (AdminDaemon daemon = AdminDaemon.start("--store", "memory")) {
      HttpResponse<String> openMetrics =
          daemon.admin.get(
              "/metrics", "application/openmetrics-text; version=1.0.0; charset=utf-8");
      HttpResponse<String> text = daemon.admin.get("/metrics", null);

      assertThat(openMetrics.statusCode()).isEqualTo(200);
      assertThat(openMetrics.headers().firstValue("Content-Type"))
          .hasValueSatisfying(type -> assertThat(type).startsWith("application/openmetrics-text"));
      assertThat(openMetrics.body()).endsWith("# EOF\n");
      assertThat(text.headers().firstValue("Content-Type"))
          .hasValueSatisfying(type -> assertThat(type).startsWith("text/plain; version=0.0.4"));
      assertThat(text.body()).doesNotContain("# EOF");
    }
  }

  @Test
  void healthAndReadiness_onAStoreThatAnswers() throws Exception {
    try (AdminDaemon daemon = AdminDaemon.start("--store", "memory")) {
      assertThat(daemon.admin.status("/healthz")).isEqualTo(200);
      await().atMost(Duration.ofSeconds(30)).until(() -> daemon.admin.status("/readyz") == 200);
      assertThat(daemon.admin.status("/nothing-here")).isEqualTo(404);
    }
  }

  @Test
  void readiness_followsEtcd_notReadyWhileItIsDown_andReadyAgainAfter() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.ofMembers(1).start();
        AdminDaemon daemon =
            AdminDaemon.start(
                "--store",
                "etcd",
                "--etcd-endpoints",
                etcd.endpoints().toString(),
                "--etcd-timeout",
                "1s")) {
      await().atMost(Duration.ofSeconds(60)).until(() -> daemon.admin.status("/readyz") == 200);

      etcd.stop(0);
      await().atMost(Duration.ofSeconds(60)).until(() -> daemon.admin.status("/readyz") == 503);
      assertThat(daemon.admin.status("/healthz")).isEqualTo(200);

      etcd.restart(0);
      await().atMost(Duration.ofSeconds(90)).until(() -> daemon.admin.status("/readyz") == 200);
    }
  }

  @Test
  void adminAddressInUse_exitsOneWithOneReadableLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      CommandRun run =
          CommandRun.execute(
              Main.commandLine(),
              "--listen",
              "127.0.0.1:0",
              "--store",
              "memory",
              "--admin-listen",
              "127.0.0.1:" + taken.getLocalPort());

      assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILED);
      assertThat(run.err().strip())
          .isEqualTo(
              "kv-server: cannot listen on 127.0.0.1:"
                  + taken.getLocalPort()
                  + " (--admin-listen): address already in use");
    }
  }

  @Test
  void adminListener_isOffByDefault() throws Exception {
    try (DaemonProcess daemon =
        DaemonProcess.startMain("--listen", "127.0.0.1:0", "--store", "memory")) {
      daemon.awaitListening();
      assertThat(daemon.output()).doesNotContain("admin");
    }
  }

  private static <T> StreamObserver<T> into(LinkedBlockingQueue<Object> queue) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        queue.add(value);
      }

      @Override
      public void onError(Throwable error) {
        queue.add(error);
      }

      @Override
      public void onCompleted() {}
    };
  }
}
