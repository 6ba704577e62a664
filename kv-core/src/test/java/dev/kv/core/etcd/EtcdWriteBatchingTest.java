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

  /**
   * One key every caller writes at once, beside keys each written by a chain of sets, each set
   * starting when the one before it is answered.
   */
  @Test
  void setAnsweredBeforeAnotherOfItsKeyStarts_hasTheLowerRevision_eachAppliedOnce()
      throws Exception {
    try (KvStore store = storeAs("root", "root-secret")) {
      long before = store.set("mark", "before").get();
      List<CompletableFuture<Long>> hot = new ArrayList<>();
      List<CompletableFuture<List<Long>>> chains = new ArrayList<>();
      for (int i = 0; i < WRITES; i++) {
        hot.add(store.set("hot", "v" + i));
        if (i % 8 == 0) {
          chains.add(chain(store, "chain/" + i, 16));
        }
      }

      HashSet<Long> revisions = new HashSet<>();
      for (int i = 0; i < chains.size(); i++) {
        List<Long> chain = chains.get(i).get();
        assertThat(chain).as("a chain's revisions").isSorted().doesNotHaveDuplicates();
        assertThat(store.get("chain/" + (8 * i)).get())
            .hasValueSatisfying(entry -> assertThat(entry.value()).isEqualTo("v15"));
        revisions.addAll(chain);
      }
      long lastHot = 0;
      int lastHotIndex = 0;
      for (int i = 0; i < WRITES; i++) {
        long revision = hot.get(i).get();
        revisions.add(revision);
        if (revision > lastHot) {
          lastHot = revision;
          lastHotIndex = i;
        }
      }
      String kept = "v" + lastHotIndex;
      long keptRevision = lastHot;
      assertThat(store.get("hot").get())
          .as("the hot key holds the write applied last")
          .hasValueSatisfying(
              entry -> {
                assertThat(entry.value()).isEqualTo(kept);
                assertThat(entry.modRevision()).isEqualTo(keptRevision);
              });
      long after = store.set("mark", "after").get();
      assertThat(after - before - 1)
          .as("revisions taken between the marks: no write applied twice")
          .isEqualTo(revisions.size());
    }
  }

  /** Sets {@code key} to v0, v1, ..., each set once the one before is answered: their revisions. */
  private static CompletableFuture<List<Long>> chain(KvStore store, String key, int length) {
    CompletableFuture<List<Long>> chain = CompletableFuture.completedFuture(new ArrayList<>());
    for (int i = 0; i < length; i++) {
      String value = "v" + i;
      chain =
          chain.thenCompose(
              revisions ->
                  store
                      .set(key, value)
                      .thenApply(
                          revision -> {
                            revisions.add(revision);
                            return revisions;
                          }));
    }
    return chain;
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
