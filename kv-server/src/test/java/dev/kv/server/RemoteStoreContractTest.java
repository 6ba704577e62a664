package dev.kv.server;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static dev.kv.core.ReadConsistency.LINEARIZABLE;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.kv.api.WatchResponse;
import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.KvStoreContract;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.RecordingListener;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import dev.kv.core.config.HostPort;
import dev.kv.core.grpc.CuttingProxy;
import dev.kv.core.memory.MemoryStore;
import dev.kv.core.remote.RemoteStore;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The remote adapter against a real kv-server on a loopback port, backed by the memory store. */
class RemoteStoreContractTest extends KvStoreContract {

  private MemoryStore backing;
  private KvServer server;

  @Override
  protected KvStore newStore() throws Exception {
    backing = new MemoryStore();
    server = KvServer.listeningOn(new HostPort("127.0.0.1", 0), backing).start();
    return RemoteStore.connect(server.address(), Duration.ofSeconds(30));
  }

  @AfterEach
  void stopServer() throws Exception {
    server.stop(Duration.ZERO);
    backing.close();
  }

  @Test
  void writes_reachTheServersStore() {
    await(store.set("foo", "bar"));

    assertThat(valueOf(backing.get("foo"))).contains("bar");
  }

  @Test
  void list_fullPage_arrivesThoughLargerThanGrpcsDefaultMessage() {
    // 10,000 keys of 419 bytes: a page full by count and by bytes (4,190,000 of 4 MiB), and with
    // its framing a message beyond gRPC's default limit of 4 MiB.
    String padding = "k".repeat(409);
    for (int i = 0; i < 10_000; i++) {
      await(backing.set(String.format("full/%04d/", i) + padding, "v"));
    }

    Page page =
        await(store.list(ListQuery.prefix("full/").withoutValues().limit(ListQuery.MAX_LIMIT)));

    assertThat(page.entries()).hasSize(10_000);
    assertThat(page.more()).isFalse();
  }

  @Test
  void watch_survivesTheServerRestarting_andMissesNothing() throws Exception {
    RecordingListener seen = new RecordingListener();
    try (Watch watch = store.watch(WatchQuery.prefix("r/"), seen)) {
      await(watch.started());
      await(store.set("r/1", "before"));
      seen.next(1, Duration.ofSeconds(30));
      HostPort address = server.address();

      server.stop(Duration.ZERO);
      await(backing.set("r/2", "while the server was away"));
      server = KvServer.listeningOn(address, backing).start();
      await(backing.set("r/3", "after"));

      assertThat(seen.next(2, Duration.ofSeconds(60)))
          .extracting(event -> event.entry().key())
          .containsExactly("r/2", "r/3");
    }
  }

  @Test
  void watchFromNow_serverRestartingBeforeAnyEvent_missesNothing() throws Exception {
    RecordingListener seen = new RecordingListener();
    try (Watch watch = store.watch(WatchQuery.prefix("quiet/"), seen)) {
      await(watch.started());
      HostPort address = server.address();

      server.stop(Duration.ZERO);
      await(backing.set("quiet/1", "while the server was away"));
      server = KvServer.listeningOn(address, backing).start();
      await(backing.set("quiet/2", "after"));

      assertThat(seen.next(2, Duration.ofSeconds(60)))
          .extracting(event -> event.entry().key())
          .containsExactly("quiet/1", "quiet/2");
    }
  }

  @Test
  void watch_cutBetweenCreatedAndReplay_deliversEveryChangeOnceInOrder() throws Exception {
    try (CuttingProxy proxy = CuttingProxy.to(server.address());
        KvStore proxied = RemoteStore.connect(proxy.address(), Duration.ofSeconds(30))) {
      long start = await(backing.set("c/0", "before the watch"));
      List<Long> written = new ArrayList<>(List.of(start));
      RecordingListener seen = new RecordingListener();
      try (Watch watch = proxied.watch(WatchQuery.prefix("c/").fromRevision(start), seen)) {
        assertThat(watch.started()).succeedsWithin(Duration.ofSeconds(30)).isEqualTo(start);
        seen.next(1, Duration.ofSeconds(30));

        proxy.cut();
        for (int i = 1; i <= 5; i++) {
          written.add(await(backing.set("c/" + i, "while the watch was down")));
        }
        // The next stream gets its created message, and breaks before the server replays those.
        proxy.cutAfter(RemoteStoreContractTest::isCreated);
        proxy.reopen();
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(proxy::isCut);
        for (int i = 6; i <= 8; i++) {
          written.add(await(backing.set("c/" + i, "while the watch was down again")));
        }
        proxy.reopen();

        assertThat(seen.next(written.size() - 1, Duration.ofSeconds(60)))
            .extracting(WatchEvent::revision)
            .containsExactlyElementsOf(written.subList(1, written.size()));
      }
    }
  }

  private static boolean isCreated(byte[] response) {
    try {
      return WatchResponse.parseFrom(response).getCreated();
    } catch (InvalidProtocolBufferException e) {
      return false;
    }
  }

  @Test
  void watchFromARevisionNoLongerKept_endsWithOutOfRange() throws Exception {
    MemoryStore small = new MemoryStore(1);
    KvServer smallServer = KvServer.listeningOn(new HostPort("127.0.0.1", 0), small).start();
    try (KvStore client = RemoteStore.connect(smallServer.address(), Duration.ofSeconds(30))) {
      long first = await(small.set("k", "1"));
      await(small.set("k", "2"));
      RecordingListener seen = new RecordingListener();

      client.watch(WatchQuery.key("k").fromRevision(first), seen);

      assertThat(seen.error())
          .succeedsWithin(Duration.ofSeconds(30))
          .satisfies(error -> assertThat(error.code()).isEqualTo(KvException.Code.OUT_OF_RANGE));
    } finally {
      smallServer.stop(Duration.ZERO);
      small.close();
    }
  }

  @Test
  void serverUnreachable_failsWithUnavailableNamingTheServer() throws Exception {
    HostPort closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = new HostPort("127.0.0.1", socket.getLocalPort());
    }
    try (KvStore unreachable = RemoteStore.connect(closed, Duration.ofSeconds(30))) {
      assertThatFailureOf(unreachable.get("foo"))
          .hasCode(KvException.Code.UNAVAILABLE)
          .hasMessage("cannot reach kv-server at " + closed);
    }
  }

  @Test
  void serverTooSlow_failsWithDeadlineExceededWithinTheTimeout() throws Exception {
    KvStore silent = org.mockito.Mockito.mock(KvStore.class);
    org.mockito.Mockito.when(silent.get("foo", LINEARIZABLE)).thenReturn(new CompletableFuture<>());
    KvServer slowServer = KvServer.listeningOn(new HostPort("127.0.0.1", 0), silent).start();
    try (KvStore client = RemoteStore.connect(slowServer.address(), Duration.ofMillis(300))) {
      long start = System.nanoTime();
      CompletableFuture<Optional<KeyValue>> answer = client.get("foo");

      assertThatFailureOf(answer)
          .hasCode(KvException.Code.DEADLINE_EXCEEDED)
          .hasMessage("kv-server at " + slowServer.address() + " did not answer within 300ms");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    } finally {
      slowServer.stop(Duration.ZERO);
    }
  }
}
