package dev.kv.core.etcd;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.KvStoreContract;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.RecordingListener;
import dev.kv.core.Swap;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import dev.kv.etcd.api.etcdserverpb.KVGrpc;
import dev.kv.etcd.api.etcdserverpb.PutRequest;
import dev.kv.etcd.api.etcdserverpb.RangeRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The etcd adapter against a real etcd member. */
class EtcdStoreContractTest extends KvStoreContract {

  @RegisterExtension static final EtcdCluster etcd = EtcdCluster.ofMembers(1);

  /** Bytes that are not UTF-8 text, as another etcd client may write them. */
  private static final ByteString NOT_UTF8 =
      ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xfe, 0x00, 0x41});

  /** A bound on a wait that takes well under a second when the machine is not busy. */
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Override
  protected KvStore newStore() {
    etcd.deleteAllKeys();
    return EtcdStore.builder().endpoints(etcd.endpoints()).timeout(Duration.ofSeconds(30)).build();
  }

  @Test
  void concurrentReaders_eachSeeTheirOwnAcknowledgedWrites_whileReadsShareCalls() throws Exception {
    List<CompletableFuture<Void>> clients = new ArrayList<>();
    java.util.concurrent.ExecutorService threads =
        java.util.concurrent.Executors.newFixedThreadPool(16);
    for (int c = 0; c < 16; c++) {
      String key = "client/" + c;
      clients.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < 50; i++) {
                  store.blocking().set(key, String.valueOf(i));
                  assertThat(store.blocking().get(key)).contains(String.valueOf(i));
                  assertThat(store.blocking().get("client/missing")).isEmpty();
                }
              },
              threads));
    }

    try {
      CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new))
          .get(60, java.util.concurrent.TimeUnit.SECONDS);
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void set_storesTheUtf8BytesOtherEtcdClientsRead() {
    await(store.set("clé", "välue 🔑"));

    assertThat(rawValue("clé")).isEqualTo(ByteString.copyFromUtf8("välue 🔑"));
  }

  @Test
  void get_valueThatIsNotUtf8_failsClearlyAndLeavesItAlone() throws Exception {
    ByteString bytes = ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xfe, 0x00, 0x41});
    rawPut("binary", bytes);

    assertThatFailureOf(store.get("binary"), WAIT)
        .hasCode(KvException.Code.FAILED_PRECONDITION)
        .hasMessage(
            "the value of key 'binary' is not UTF-8 text (4 bytes, written by another"
                + " etcd client); kv reads and writes text only");
    assertThat(rawValue("binary")).isEqualTo(bytes);
  }

  @Test
  void list_valueThatIsNotUtf8_isListedAsItsBytes_besideTheTextValues() {
    await(store.set("mixed/a", "text"));
    rawPut("mixed/b", NOT_UTF8);
    await(store.set("mixed/c", "more text"));

    List<KeyValue> listed = await(store.list(ListQuery.prefix("mixed/"))).entries();

    assertThat(listed).extracting(KeyValue::key).containsExactly("mixed/a", "mixed/b", "mixed/c");
    assertThat(listed.get(0).isText()).isTrue();
    assertThat(listed.get(1).isText()).isFalse();
    assertThat(listed.get(1).binaryValue()).isEqualTo(NOT_UTF8.toByteArray());
    assertThat(listed.get(1).value()).isEmpty();
    assertThat(listed.get(2).value()).isEqualTo("more text");
  }

  @Test
  void list_keyThatIsNotUtf8_isLeftOut_evenWhenAPageHoldsNothingElse() {
    await(store.set("keys/a", "1"));
    rawPut(ByteString.copyFromUtf8("keys/b").concat(NOT_UTF8), ByteString.copyFromUtf8("x"));
    await(store.set("keys/c", "3"));

    List<String> listed = new ArrayList<>();
    ListQuery query = ListQuery.prefix("keys/").limit(1);
    Page page;
    do {
      page = await(store.list(query));
      page.entries().forEach(entry -> listed.add(entry.key()));
      query = query.startAfter(listed.get(listed.size() - 1));
    } while (page.more());

    assertThat(listed).containsExactly("keys/a", "keys/c");
  }

  @Test
  void watch_deliversAValueThatIsNotUtf8AsItsBytes_andSkipsAKeyThatIsNot_andGoesOn()
      throws Exception {
    RecordingListener seen = new RecordingListener();
    try (Watch watch = store.watch(WatchQuery.prefix("foreign/"), seen)) {
      await(watch.started());

      rawPut("foreign/value", NOT_UTF8);
      rawPut(ByteString.copyFromUtf8("foreign/").concat(NOT_UTF8), ByteString.copyFromUtf8("x"));
      await(store.set("foreign/after", "text"));

      List<WatchEvent> events = seen.next(2, WAIT);
      assertThat(events)
          .extracting(event -> event.entry().key())
          .containsExactly("foreign/value", "foreign/after");
      assertThat(events.get(0).entry().binaryValue()).isEqualTo(NOT_UTF8.toByteArray());
      assertThat(events.get(1).entry().value()).isEqualTo("text");
      assertThat(seen.error()).isNotDone();
    }
  }

  @Test
  void refusedConditionalWrite_onAValueThatIsNotUtf8_givesItAsTheCurrentEntry() {
    rawPut("swapped", NOT_UTF8);

    Swap swap = await(store.setIf("swapped", "mine", Swap.ABSENT));

    assertThat(swap.applied()).isFalse();
    assertThat(swap.current())
        .hasValueSatisfying(
            current -> assertThat(current.binaryValue()).isEqualTo(NOT_UTF8.toByteArray()));
    assertThat(rawValue("swapped")).isEqualTo(NOT_UTF8);
  }

  @Test
  void refusedConditionalWriteWithTtl_leavesNoLeaseBehind() throws Exception {
    await(store.set("held", "x"));
    String before =
        new String(etcd.etcdctl("lease", "list"), java.nio.charset.StandardCharsets.UTF_8);

    assertThat(await(store.setIf("held", "y", Swap.ABSENT, Duration.ofHours(1))).applied())
        .isFalse();

    org.awaitility.Awaitility.await()
        .atMost(WAIT)
        .until(
            () ->
                new String(etcd.etcdctl("lease", "list"), java.nio.charset.StandardCharsets.UTF_8)
                    .equals(before));
  }

  @Test
  void watchFromACompactedRevision_endsWithOutOfRange_namingTheOldestKept() throws Exception {
    long first = await(store.set("compacted", "1"));
    await(store.set("compacted", "2"));
    long last = await(store.set("compacted", "3"));
    etcd.etcdctl("compact", String.valueOf(last));
    RecordingListener seen = new RecordingListener();

    store.watch(WatchQuery.key("compacted").fromRevision(first), seen);

    assertThat(seen.error())
        .succeedsWithin(WAIT)
        .satisfies(
            error -> {
              assertThat(error.code()).isEqualTo(KvException.Code.OUT_OF_RANGE);
              assertThat(error.getMessage()).endsWith("the oldest available is " + last);
            });
  }

  @Test
  void listAtACompactedRevision_failsWithOutOfRange_namingTheOldestKept() throws Exception {
    await(store.set("listed/1", "1"));
    await(store.set("listed/2", "1"));
    Page first = await(store.list(ListQuery.prefix("listed/").limit(1)));
    long last = await(store.set("listed/2", "2"));
    etcd.etcdctl("compact", String.valueOf(last));

    assertThatFailureOf(
            store.list(
                ListQuery.prefix("listed/").startAfter("listed/1").atRevision(first.revision())))
        .hasCode(KvException.Code.OUT_OF_RANGE)
        .hasMessage(
            "revision "
                + first.revision()
                + " is no longer kept (etcd compacted it); the oldest available is "
                + last);
  }

  @Test
  void watch_survivesTheMemberGoingAway_andMissesNothing() throws Exception {
    RecordingListener seen = new RecordingListener();
    try (Watch watch = store.watch(WatchQuery.prefix("survivor/"), seen)) {
      await(watch.started());
      await(store.set("survivor/1", "before"));
      seen.next(1, WAIT);

      etcd.stop(0);
      etcd.restart(0);
      await(store.set("survivor/2", "after"));
      await(store.set("survivor/3", "after"));
      // Events come in order: anything sent twice would come before this last one.
      await(store.set("survivor/4", "last"));

      assertThat(seen.next(3, WAIT))
          .extracting(event -> event.entry().key())
          .containsExactly("survivor/2", "survivor/3", "survivor/4");
      assertThat(seen.drain()).isEmpty();
      assertThat(seen.error()).isNotDone();
    }
  }

  @Test
  void noMemberAnswers_failsWithUnavailableNamingTheEndpointsWithinTheTimeout() throws Exception {
    EtcdEndpoints nowhere = EtcdEndpoints.parse("http://127.0.0.1:1,http://127.0.0.1:9");
    Duration timeout = Duration.ofSeconds(2);
    try (KvStore unreachable = EtcdStore.builder().endpoints(nowhere).timeout(timeout).build()) {
      long start = System.nanoTime();

      assertThatFailureOf(unreachable.get("foo"), WAIT)
          .isUnreachable()
          .hasMessageContaining("etcd at http://127.0.0.1:1,http://127.0.0.1:9");
      // What is tested: the store's own timeout ends the call, not the test's WAIT. The slack is
      // for a busy machine, where a thread may wait seconds for a core.
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isLessThan(timeout.plus(Duration.ofSeconds(15)));
    }
  }

  private static ByteString rawValue(String key) {
    ManagedChannel channel = channel();
    try {
      return KVGrpc.newBlockingStub(channel)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).build())
          .getKvs(0)
          .getValue();
    } finally {
      channel.shutdownNow();
    }
  }

  private static void rawPut(String key, ByteString value) {
    rawPut(ByteString.copyFromUtf8(key), value);
  }

  /** Writes as another etcd client may: any bytes. */
  private static void rawPut(ByteString key, ByteString value) {
    ManagedChannel channel = channel();
    try {
      KVGrpc.newBlockingStub(channel)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .put(PutRequest.newBuilder().setKey(key).setValue(value).build());
    } finally {
      channel.shutdownNow();
    }
  }

  private static ManagedChannel channel() {
    var member = etcd.endpoints().members().get(0);
    return NettyChannelBuilder.forAddress(member.host(), member.port()).usePlaintext().build();
  }
}
