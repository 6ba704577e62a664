package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.KvVersion;
import dev.kv.core.ReadConsistency;
import dev.kv.core.StoreStatus;
import dev.kv.core.cache.ReadCache;
import dev.kv.core.embedded.EmbeddedStore;
import dev.kv.core.memory.MemoryStore;
import dev.kv.core.remote.RemoteStore;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The status call, answered by an in-process kv-server and read back by a remote store. */
@Timeout(60)
class StatusTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path dataDir;

  private KvStore store;
  private KvServer server;
  private ManagedChannel channel;
  private KvStore client;

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.stop(Duration.ZERO);
      store.close();
    }
  }

  @Test
  void status_onMemory_answersTheServerTheStoreAndItsRevision() throws Exception {
    serve(new MemoryStore());
    client.blocking().set("a", "1");
    client.blocking().set("b", "2");

    StoreStatus status = servingStatus();

    assertThat(status.kind()).isEqualTo("memory");
    assertThat(status.revision()).isEqualTo(3);
    assertThat(status.members()).isEmpty();
    assertThat(status.cache()).isEmpty();
    StoreStatus.Server answering = status.server().orElseThrow();
    assertThat(answering.version()).isEqualTo(KvVersion.get()).isNotEmpty();
    assertThat(answering.uptime()).isBetween(Duration.ZERO, TIMEOUT.multipliedBy(2));
  }

  @Test
  void status_onEmbedded_answersItsKindAndRevision() throws Exception {
    serve(EmbeddedStore.open(dataDir));
    long written = client.blocking().set("a", "1");

    StoreStatus status = servingStatus();

    assertThat(status.kind()).isEqualTo("embedded");
    assertThat(status.revision()).isEqualTo(written);
  }

  @Test
  void status_withAReadCache_countsItsHitsAndMisses() throws Exception {
    serve(ReadCache.over(new MemoryStore(), 100));
    client.blocking().set("a", "1");
    await().atMost(TIMEOUT).until(() -> ((ReadCache) store).isLive());
    client.blocking().entry("a", ReadConsistency.SERIALIZABLE); // miss: read from the store
    client.blocking().entry("a", ReadConsistency.SERIALIZABLE); // hit
    client.blocking().entry("a", ReadConsistency.SERIALIZABLE); // hit

    StoreStatus status = servingStatus();

    assertThat(status.kind()).isEqualTo("memory");
    assertThat(status.cache()).contains(new StoreStatus.Cache(1, 100, 2, 1, true));
    assertThat(status.cache().orElseThrow().hitRatio()).contains(2.0 / 3);
  }

  @Test
  void status_ofAStoreThatFailsItsHealthChecks_saysNotServing() throws Exception {
    KvStore failing = mock(KvStore.class);
    when(failing.checkHealth())
        .thenReturn(
            CompletableFuture.failedFuture(
                new KvException(KvException.Code.UNAVAILABLE, "cannot reach etcd")));
    when(failing.status())
        .thenReturn(CompletableFuture.completedFuture(new StoreStatus("etcd", 0)));
    serve(failing);
    verify(failing, timeout(TIMEOUT.toMillis())).checkHealth();

    StoreStatus status = client.blocking().status();

    assertThat(status.server().orElseThrow().serving()).isFalse();
    assertThat(status.kind()).isEqualTo("etcd");
  }

  private void serve(KvStore served) throws Exception {
    store = served;
    String name = InProcessServerBuilder.generateName();
    server = new KvServer(InProcessServerBuilder.forName(name).directExecutor(), store).start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    client = RemoteStore.over(channel, "in-process", TIMEOUT);
  }

  /** The status, once the server's first health check found its store answering. */
  private StoreStatus servingStatus() {
    return await()
        .atMost(TIMEOUT)
        .until(
            () -> client.blocking().status(),
            status -> status.server().map(StoreStatus.Server::serving).orElse(false));
  }
}
