package dev.kv.core.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvStore;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the etcd adapter sends, seen by a member that records it. */
@Timeout(30)
class EtcdStoreTest {

  @Test
  void authority_overridden_isSentWithEveryCall() throws Exception {
    try (RecordingEtcd etcd = new RecordingEtcd();
        KvStore store = EtcdStore.builder().endpoints(etcd.endpoints()).authority("etcd").build()) {
      store.get("a").get();
      store.get("b").get();

      assertThat(etcd.authorities()).containsExactly("etcd", "etcd");
    }
  }

  @Test
  void authority_byDefault_isTheFirstEndpoint() throws Exception {
    try (RecordingEtcd etcd = new RecordingEtcd();
        KvStore store =
            EtcdStore.builder()
                .endpoints(etcd.endpoints())
                .timeout(Duration.ofSeconds(5))
                .build()) {
      store.get("a").get();

      assertThat(etcd.authorities()).containsExactly(etcd.endpoints().members().get(0).toString());
    }
  }

  @Test
  void callbacks_byDefault_runOnTheNetworkThreads_noPoolHop() throws Exception {
    try (RecordingEtcd etcd = new RecordingEtcd();
        KvStore store = EtcdStore.builder().endpoints(etcd.endpoints()).build()) {
      assertThat(callbackThreads(store)).noneMatch(name -> name.startsWith("kv-etcd"));
    }
  }

  @Test
  void callbacks_onTheEmbeddersExecutor_whenItAsksForOne() throws Exception {
    ExecutorService embedders = Executors.newFixedThreadPool(2, task -> new Thread(task, "mine"));
    try (RecordingEtcd etcd = new RecordingEtcd();
        KvStore store =
            EtcdStore.builder().endpoints(etcd.endpoints()).executor(embedders).build()) {
      assertThat(callbackThreads(store)).containsOnly("mine");
    } finally {
      embedders.shutdownNow();
    }
  }

  /** The threads that callbacks chained on reads ran on, the calling thread left out. */
  private static Set<String> callbackThreads(KvStore store) throws Exception {
    Set<String> threads = ConcurrentHashMap.newKeySet();
    String caller = Thread.currentThread().getName();
    for (int i = 0; i < 20; i++) {
      store.get("k" + i).thenRun(() -> threads.add(Thread.currentThread().getName())).get();
    }
    threads.remove(caller);
    assertThat(threads).as("callbacks that ran elsewhere than the caller").isNotEmpty();
    return threads;
  }
}
