package dev.kv.server;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.ListQuery;
import dev.kv.core.ReadConsistency;
import dev.kv.core.RecordingListener;
import dev.kv.core.Watch;
import dev.kv.core.WatchQuery;
import dev.kv.core.cache.ReadCache;
import dev.kv.core.config.HostPort;
import dev.kv.core.etcd.EtcdCluster;
import dev.kv.core.etcd.EtcdStore;
import dev.kv.core.remote.RemoteStore;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** kv-server on real etcd: what users of the etcd store see, including etcd going away. */
@Timeout(120)
class EtcdBackedServerTest {

  private static final Duration HEALTH_INTERVAL = Duration.ofMillis(200);
  private static final Duration OUTAGE = Duration.ofSeconds(30);

  /** Bytes that are not UTF-8 text, as other programs sharing etcd may write. */
  private static final byte[] NOT_TEXT = {(byte) 0xff, (byte) 0xfe, 'k', 'v'};

  @Test
  void valueSetThroughTheServer_readsBackByteForByteWithEtcdctl() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.ofMembers(1).start();
        Running server = Running.on(etcd, Duration.ofSeconds(5))) {
      String value = "grüße, 世界 🔑";

      server.client.blocking().set("interop/greeting", value);

      byte[] printed = etcd.etcdctl("get", "interop/greeting", "--print-value-only");
      assertThat(printed).isEqualTo((value + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  /**
   * Another program on the same etcd writes a value that is not text, and a key that is not: the
   * read cache forgets that one key and keeps its watch, so it goes on answering from memory; the
   * server lists and watches the value as its bytes, and refuses only a get of it.
   */
  @Test
  void foreignWritesThatAreNotText_leaveTheReadCacheWatching_andTheLogQuiet() throws Exception {
    List<LogRecord> warnings = new CopyOnWriteArrayList<>();
    Handler warningsOnly =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
              warnings.add(record);
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    Logger.getLogger("").addHandler(warningsOnly);
    try (EtcdCluster etcd = EtcdCluster.ofMembers(1).start();
        Running server =
            Running.on(etcd, Duration.ofSeconds(5), store -> ReadCache.over(store, 100))) {
      ReadCache cache = (ReadCache) server.store;
      server.client.blocking().set("hot", "kept");
      server.client.blocking().set("marker", "before");
      awaitHit(server, cache, "hot", "kept");
      awaitHit(server, cache, "marker", "before");
      RecordingListener watched = new RecordingListener();
      Watch watch = server.client.watch(WatchQuery.prefix("foreign/"), watched);
      watch.started().get(10, TimeUnit.SECONDS);

      etcd.etcdctlPut("foreign/value".getBytes(StandardCharsets.UTF_8), NOT_TEXT);
      etcd.etcdctlPut("foreign/\377key".getBytes(StandardCharsets.ISO_8859_1), NOT_TEXT);
      etcd.etcdctl("put", "marker", "after");
      // The cache answers the marker's new value once its watch is past the foreign writes.
      awaitHit(server, cache, "marker", "after");

      assertThat(warnings).extracting(LogRecord::getMessage).isEmpty();
      long hits = cache.hits();
      assertThat(serializable(server, "hot")).contains("kept");
      assertThat(cache.hits())
          .as("a read of a key cached before the foreign writes")
          .isEqualTo(hits + 1);
      assertThatFailureOf(server.client.get("foreign/value"), Duration.ofSeconds(10))
          .hasCode(KvException.Code.FAILED_PRECONDITION);
      List<KeyValue> listed = server.client.blocking().list(ListQuery.prefix("foreign/")).entries();
      assertThat(listed).extracting(KeyValue::key).containsExactly("foreign/value");
      assertThat(listed.get(0).binaryValue()).isEqualTo(NOT_TEXT);
      assertThat(watched.next(1, Duration.ofSeconds(10)).get(0).entry().binaryValue())
          .isEqualTo(NOT_TEXT);
      watch.close();
    } finally {
      Logger.getLogger("").removeHandler(warningsOnly);
    }
  }

  private static Optional<String> serializable(Running server, String key) {
    return server.client.blocking().get(key, ReadConsistency.SERIALIZABLE);
  }

  /** Reads {@code key} until the cache answers it with {@code value} from memory. */
  private static void awaitHit(Running server, ReadCache cache, String key, String value) {
    await()
        .atMost(10, TimeUnit.SECONDS)
        .until(
            () -> {
              long hits = cache.hits();
              return serializable(server, key).equals(Optional.of(value))
                  && cache.hits() == hits + 1;
            });
  }

  @Test
  void largestKeyAndValue_fitEtcdsDefaultRequestLimit_inEveryKindOfWrite() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.ofMembers(1).start();
        Running server = Running.on(etcd, Duration.ofSeconds(5))) {
      String key = "k".repeat(Limits.DEFAULTS.maxKeyBytes());
      String value = "v".repeat(Limits.DEFAULTS.maxValueBytes());

      long revision = server.client.blocking().set(key, value);
      assertThat(server.client.setIf(key, value, revision).get(30, TimeUnit.SECONDS).applied())
          .isTrue();
      server.client.blocking().delete(key);
      assertThat(
              server
                  .client
                  .setIf(key, value, dev.kv.core.Swap.ABSENT)
                  .get(30, TimeUnit.SECONDS)
                  .applied())
          .isTrue();
      assertThat(server.client.blocking().get(key)).contains(value);
    }
  }

  @Test
  void manyReadsAtOnceThroughTheServer_allAnswer_thoughTheyShareCallsToEtcd() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.ofMembers(1).start();
        Running server = Running.on(etcd, Duration.ofSeconds(5))) {
      for (int i = 0; i < 20; i++) {
        server.client.blocking().set("many/" + i, "v" + i);
      }

      List<CompletableFuture<Optional<KeyValue>>> reads = new ArrayList<>();
      for (int i = 0; i < 2_000; i++) {
        reads.add(server.client.get("many/" + i % 20));
      }

      for (int i = 0; i < reads.size(); i++) {
        assertThat(reads.get(i).get(30, TimeUnit.SECONDS))
            .map(KeyValue::value)
            .contains("v" + i % 20);
      }
    }
  }

  @Test
  void etcdDownEntirely_thenBack_serverStaysUpAndServesAgain() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.ofMembers(1).start();
        Running server = Running.on(etcd, Duration.ofSeconds(2))) {
      server.client.blocking().set("durable", "kept");
      assertThat(server.health()).isEqualTo(ServingStatus.SERVING);

      long stoppedAt = System.nanoTime();
      etcd.stop(0);

      await()
          .atMost(30, TimeUnit.SECONDS)
          .until(() -> server.health() == ServingStatus.NOT_SERVING);
      long start = System.nanoTime();
      assertThatFailureOf(server.client.get("durable"), Duration.ofSeconds(10))
          .isUnreachable()
          .hasMessageContaining("etcd at " + etcd.endpoints());
      // Within the server's etcd deadline, not the client's.
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));

      // Down long enough for gRPC's reconnect backoff to grow well past the recovery expected.
      Thread.sleep(Math.max(0, OUTAGE.toMillis() - (System.nanoTime() - stoppedAt) / 1_000_000));
      etcd.restart(0);
      long backAt = System.nanoTime();

      await().atMost(30, TimeUnit.SECONDS).until(() -> server.health() == ServingStatus.SERVING);
      Duration recovery = Duration.ofNanos(System.nanoTime() - backAt);
      System.out.printf(
          "etcd down for %ds: kv-server SERVING again %d ms after etcd answered%n",
          OUTAGE.toSeconds(), recovery.toMillis());
      assertThat(recovery).isLessThan(Duration.ofSeconds(5));
      assertThat(server.client.blocking().get("durable")).contains("kept");
    }
  }

  /**
   * etcd over its space quota still reads but refuses every write: health says so, and the log
   * names the alarm, until an operator frees space and disarms it.
   */
  @Test
  void etcdOverItsSpaceQuota_isNotServing_untilSpaceIsFreedAndTheAlarmDisarmed() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.ofMembers(1).withQuota(1 << 20).start();
        Running server = Running.on(etcd, Duration.ofSeconds(5));
        LoggedRecords logged = LoggedRecords.of(KvServer.class)) {
      String value = "x".repeat(100 << 10);
      KvException refused = null;
      for (int i = 0; i < 100 && refused == null; i++) {
        try {
          server.client.blocking().set("fill/" + i, value);
        } catch (KvException e) {
          refused = e;
        }
      }
      assertThat(refused).isNotNull().hasMessageContaining("database space exceeded");

      await()
          .atMost(30, TimeUnit.SECONDS)
          .until(() -> server.health() == ServingStatus.NOT_SERVING);
      await()
          .atMost(30, TimeUnit.SECONDS)
          .until(
              () ->
                  logged.records().stream()
                      .anyMatch(record -> record.getMessage().contains("(alarm NOSPACE)")));

      long revision = server.client.blocking().deletePrefix("fill/").revision();
      etcd.etcdctl("compact", "" + revision);
      etcd.etcdctl("defrag");
      etcd.etcdctl("alarm", "disarm");

      await().atMost(30, TimeUnit.SECONDS).until(() -> server.health() == ServingStatus.SERVING);
      server.client.blocking().set("after", "written");
    }
  }

  /** A kv-server on the etcd store, on a loopback port, and a client of it. */
  static final class Running implements AutoCloseable {
    final KvServer server;
    final KvStore store;
    final KvStore client;
    final ManagedChannel channel;

    private Running(KvStore store, KvServer server) {
      this.store = store;
      this.server = server;
      this.client = RemoteStore.connect(server.address(), Duration.ofSeconds(30));
      this.channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    }

    /** Starts one, and waits until it reports SERVING; stops it again if it never does. */
    static Running on(EtcdCluster etcd, Duration etcdTimeout) throws Exception {
      return on(etcd, etcdTimeout, etcdStore -> etcdStore);
    }

    /** As {@link #on(EtcdCluster, Duration)}, serving {@code serve} of the etcd store. */
    static Running on(EtcdCluster etcd, Duration etcdTimeout, UnaryOperator<KvStore> serve)
        throws Exception {
      KvStore store =
          serve.apply(EtcdStore.builder().endpoints(etcd.endpoints()).timeout(etcdTimeout).build());
      KvServer server =
          new KvServer(
              NettyServerBuilder.forAddress(new HostPort("127.0.0.1", 0).toSocketAddress()),
              store,
              HEALTH_INTERVAL);
      Running running = null;
      try {
        server.start();
        running = new Running(store, server);
        Running started = running;
        await().atMost(60, TimeUnit.SECONDS).until(() -> started.health() == ServingStatus.SERVING);
        return running;
      } catch (Exception | AssertionError e) {
        if (running != null) {
          running.close();
        } else {
          server.stop(Duration.ZERO);
          store.close();
        }
        throw e;
      }
    }

    ServingStatus health() {
      return HealthGrpc.newBlockingStub(channel)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .check(HealthCheckRequest.newBuilder().setService(KvServer.SERVICE_NAME).build())
          .getStatus();
    }

    @Override
    public void close() {
      channel.shutdownNow();
      client.close();
      try {
        server.stop(Duration.ZERO);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        store.close();
      }
    }
  }
}
