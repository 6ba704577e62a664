package dev.kv.core.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.KvStoreContract;
import dev.kv.core.RecordingListener;
import dev.kv.core.WatchQuery;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MemoryStoreTest extends KvStoreContract {

  @Override
  protected KvStore newStore() {
    return new MemoryStore();
  }

  @Test
  void watchFromARevisionNoLongerKept_endsWithOutOfRange_namingTheOldestKept() {
    try (MemoryStore small = new MemoryStore(3)) {
      for (int i = 0; i < 5; i++) {
        await(small.set("k", "v" + i)); // revisions 2 to 6; the last 3 are kept
      }
      RecordingListener seen = new RecordingListener();

      small.watch(WatchQuery.key("k").fromRevision(2), seen);

      assertThat(seen.error())
          .succeedsWithin(Duration.ofSeconds(30))
          .satisfies(
              error -> {
                assertThat(error.code()).isEqualTo(KvException.Code.OUT_OF_RANGE);
                assertThat(error.getMessage())
                    .isEqualTo("revision 2 is no longer kept; the oldest available is 4");
              });
    }
  }
}
