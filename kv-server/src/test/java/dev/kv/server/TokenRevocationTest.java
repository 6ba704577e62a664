package dev.kv.server;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static dev.kv.core.KvFailureAssert.assertThatKvException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.RecordingListener;
import dev.kv.core.Watch;
import dev.kv.core.WatchQuery;
import dev.kv.core.config.HostPort;
import dev.kv.core.remote.RemoteStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A token removed from the token file ends the calls that use it, watches included. */
@Timeout(60)
class TokenRevocationTest {

  private static final Duration RELOAD = Duration.ofMillis(500);
  private static final Duration WAIT = Duration.ofSeconds(30);

  /** Two watches at most, so that one not let go would keep the next one out. */
  private static final Limits TWO_WATCHES =
      new Limits(
          Limits.DEFAULTS.maxKeyBytes(),
          Limits.DEFAULTS.maxValueBytes(),
          Limits.DEFAULTS.maxMessageBytes(),
          Limits.DEFAULTS.maxStreamsPerConnection(),
          Limits.DEFAULTS.maxCalls(),
          2,
          Limits.DEFAULTS.keepAliveMinTime(),
          Limits.DEFAULTS.maxConnectionIdle(),
          Limits.DEFAULTS.maxConnectionAge(),
          Limits.DEFAULTS.defaultDeadline(),
          Limits.DEFAULTS.maxConnections(),
          Limits.DEFAULTS.firstRequestTimeout(),
          Limits.DEFAULTS.maxBytesInProgress(),
          Limits.DEFAULTS.maxUnauthenticatedCalls(),
          Limits.DEFAULTS.maxCallDuration(),
          Limits.DEFAULTS.maxSharePerAddress(),
          Limits.DEFAULTS.maxSharePerConnection());

  @TempDir Path directory;

  @AutoClose private final Closer closer = new Closer();
  private final StallingStore store = closer.add(new StallingStore());
  private KvServer server;

  private KvStore client(String token) {
    RemoteStore client =
        RemoteStore.builder()
            .server(new HostPort("127.0.0.1", server.port()))
            .bearerToken(token)
            // Longer than the test waits: a call in progress ends by the server's doing.
            .timeout(WAIT.multipliedBy(2))
            .build();
    return closer.add(client);
  }

  private RecordingListener watch(KvStore client) throws Exception {
    RecordingListener seen = new RecordingListener();
    Watch watch = client.watch(WatchQuery.prefix("k"), seen);
    closer.add(watch);
    watch.started().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    return seen;
  }

  @Test
  void removedToken_endsItsWatchAndCallInProgress_withUnauthenticated_othersGoOn()
      throws Exception {
    Path tokens = directory.resolve("tokens");
    Files.writeString(tokens, "revoked-token\nkept-token\n");
    server =
        KvServer.builder(new HostPort("127.0.0.1", 0), store)
            .bearerTokens(new BearerTokens(tokens))
            .limits(TWO_WATCHES)
            .reloadInterval(RELOAD)
            .build()
            .start();
    closer.add(() -> server.stop(Duration.ZERO));
    KvStore revoked = client("revoked-token");
    KvStore kept = client("kept-token");
    RecordingListener revokedWatch = watch(revoked);
    RecordingListener keptWatch = watch(kept);
    CompletableFuture<Optional<KeyValue>> inProgress = revoked.get("stall");
    store.awaitStalled(1);
    kept.blocking().set("k", "1");
    revokedWatch.next(1, WAIT);
    keptWatch.next(1, WAIT);

    long removed = System.nanoTime();
    Files.writeString(tokens, "kept-token\n");

    KvException watchEnd = revokedWatch.error().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    System.out.printf(
        "the revoked token's watch ended %d ms after the token file changed (reload interval %d"
            + " ms)%n",
        Duration.ofNanos(System.nanoTime() - removed).toMillis(), RELOAD.toMillis());
    assertThat(watchEnd.code()).isEqualTo(KvException.Code.UNAUTHENTICATED);
    assertThat(watchEnd).hasMessageContaining("the token of this call was revoked");
    assertThatFailureOf(inProgress, WAIT).hasCode(KvException.Code.UNAUTHENTICATED);
    // The server let go of what the calls held: the store's read and watch, and the watch's slot.
    await().atMost(WAIT).until(() -> store.stalled().stream().allMatch(Future::isCancelled));
    await().atMost(WAIT).until(() -> store.openWatches() == 1);
    RecordingListener another = watch(kept);

    kept.blocking().set("k", "2");
    assertThat(keptWatch.next(1, WAIT).get(0).entry().value()).isEqualTo("2");
    assertThat(another.next(1, WAIT).get(0).entry().value()).isEqualTo("2");
    assertThat(revokedWatch.drain()).isEmpty();
    assertThatKvException(catchThrowable(() -> revoked.blocking().get("k")))
        .hasCode(KvException.Code.UNAUTHENTICATED);
  }
}
