package dev.kv.core.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvStore;
import java.time.Duration;
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
}
