package dev.kv.core.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.grpc.CuttingProxy;
import dev.kv.etcd.api.etcdserverpb.WatchResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A watch on etcd that breaks at awkward points still delivers every change once, in order. */
@Timeout(60)
class EtcdWatchResumeTest {

  private static final Duration RESUME_BOUND = Duration.ofSeconds(30);

  @RegisterExtension static final EtcdCluster etcd = EtcdCluster.ofMembers(1);

  @Test
  void watch_cutBetweenCreatedAndReplay_deliversEveryChangeOnceInOrder() throws Exception {
    etcd.deleteAllKeys();
    try (CuttingProxy proxy = CuttingProxy.to(etcd.endpoints().members().get(0));
        KvStore writer = EtcdStore.builder().endpoints(etcd.endpoints()).build();
        KvStore watched =
            EtcdStore.builder().endpoints(new EtcdEndpoints(List.of(proxy.address()))).build()) {
      List<Long> written = new ArrayList<>();
      written.add(writer.blocking().set("w/0", "before the watch"));
      Revisions seen = new Revisions();
      try (Watch watch =
          watched.watch(WatchQuery.prefix("w/").fromRevision(written.get(0)), seen)) {
        assertThat(watch.started())
            .succeedsWithin(Duration.ofSeconds(30))
            .isEqualTo(written.get(0));
        seen.await(() -> seen.list.size() == 1);

        proxy.cut();
        for (int i = 1; i <= 5; i++) {
          written.add(writer.blocking().set("w/" + i, "while the watch was down"));
        }
        // The next stream gets its created reply, and breaks before etcd replays those writes.
        proxy.cutAfter(EtcdWatchResumeTest::isCreated);
        proxy.reopen();
        seen.await(proxy::isCut);
        for (int i = 6; i <= 8; i++) {
          written.add(writer.blocking().set("w/" + i, "while the watch was down again"));
        }
        proxy.reopen();

        long last = written.get(written.size() - 1);
        seen.await(() -> seen.list.contains(last));
        assertThat(seen.list).containsExactlyElementsOf(written);
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

  /** The revision of each event delivered, in order; waits fail at once if the watch ends. */
  private static final class Revisions implements WatchListener {
    final List<Long> list = new CopyOnWriteArrayList<>();
    volatile KvException ended;

    @Override
    public void onEvent(WatchEvent event) {
      list.add(event.revision());
    }

    @Override
    public void onError(KvException error) {
      ended = error;
    }

    void await(Callable<Boolean> condition) {
      Awaitility.await()
          .atMost(RESUME_BOUND)
          .failFast("the watch ended", () -> ended != null)
          .until(condition);
    }
  }
}
