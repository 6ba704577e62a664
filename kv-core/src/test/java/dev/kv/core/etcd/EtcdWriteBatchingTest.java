package dev.kv.core.etcd;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Concurrent writes against a real etcd member: one Txn for many, each write still answered. */
class EtcdWriteBatchingTest {

  private static final int WRITES = 64;

  @RegisterExtension
  static final EtcdCluster etcd =
      EtcdCluster.ofMembers(1).withAuth("root-secret", Duration.ofMinutes(5));

  private static KvStore storeAs(String user, String password) {
    return EtcdStore.builder()
        .endpoints(etcd.endpoints())
        .timeout(Duration.ofSeconds(30))
        .user(user, password)
        .build();
  }

  @Test
  void concurrentSetsOfDistinctKeys_shareRevisions_eachAnsweredWithTheRevisionItWrote()
      throws Exception {
    try (KvStore store = storeAs("root", "root-secret")) {
      List<CompletableFuture<Long>> writes = new ArrayList<>();
      for (int i = 0; i < WRITES; i++) {
        writes.add(store.set("shared/" + i, "v" + i));
      }

      HashSet<Long> revisions = new HashSet<>();
      for (int i = 0; i < WRITES; i++) {
        long revision = writes.get(i).get();
        revisions.add(revision);
        String value = "v" + i;
        assertThat(store.get("shared/" + i).get())
            .hasValueSatisfying(
                entry -> {
                  assertThat(entry.value()).isEqualTo(value);
                  assertThat(entry.modRevision()).isEqualTo(revision);
                });
      }
      System.out.printf("%d concurrent sets took %d revisions%n", WRITES, revisions.size());
      assertThat(revisions).as("writes that went together").hasSizeLessThan(WRITES);
    }
  }

  @Test
  void concurrentSetsOfOneKey_keepTheLastWritten() throws Exception {
    try (KvStore store = storeAs("root", "root-secret")) {
      List<CompletableFuture<Long>> writes = new ArrayList<>();
      for (int i = 0; i < WRITES; i++) {
        writes.add(store.set("one", "v" + i));
        writes.add(store.set("other/" + i, "x"));
      }
      long last = 0;
      for (int i = 0; i < WRITES; i++) {
        long revision = writes.get(2 * i).get();
        assertThat(revision).as("writes of one key, in order").isGreaterThan(last);
        last = revision;
      }
      assertThat(store.blocking().get("one")).contains("v" + (WRITES - 1));
    }
  }

  @Test
  void keyTheUserMayNotWrite_failsOnlyItsOwnWrite() throws Exception {
    etcd.addUser("alice", "alice-secret", "alice/");
    try (KvStore alice = storeAs("alice", "alice-secret")) {
      List<CompletableFuture<Long>> allowed = new ArrayList<>();
      CompletableFuture<Long> denied = null;
      for (int i = 0; i < WRITES; i++) {
        allowed.add(alice.set("alice/" + i, "v"));
        if (i == WRITES / 2) {
          denied = alice.set("bob/" + i, "v");
        }
      }

      for (CompletableFuture<Long> write : allowed) {
        assertThat(write.get()).isPositive();
      }
      assertThatFailureOf(denied).hasCode(KvException.Code.PERMISSION_DENIED);
    }
  }
}
