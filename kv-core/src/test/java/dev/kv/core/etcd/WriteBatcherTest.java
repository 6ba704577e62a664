package dev.kv.core.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.kv.core.KvException;
import dev.kv.etcd.api.etcdserverpb.PutRequest;
import dev.kv.etcd.api.etcdserverpb.PutResponse;
import dev.kv.etcd.api.etcdserverpb.ResponseHeader;
import dev.kv.etcd.api.etcdserverpb.ResponseOp;
import dev.kv.etcd.api.etcdserverpb.TxnRequest;
import dev.kv.etcd.api.etcdserverpb.TxnResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The batching of unconditional writes, against calls this test answers by hand. */
class WriteBatcherTest {

  private static final int MAX_OPS = 4;

  private final CallsAnsweredByHand<PutRequest, PutResponse> puts = new CallsAnsweredByHand<>();
  private final CallsAnsweredByHand<TxnRequest, TxnResponse> txns = new CallsAnsweredByHand<>();

  private final WriteBatcher batcher = new WriteBatcher(puts, txns, MAX_OPS, size -> {});

  @Test
  void writeAlone_isOnePutAtOnce() {
    CompletableFuture<Long> write = batcher.write(put("a", "1"));

    assertThat(puts.requests).containsExactly(put("a", "1"));
    puts.answers.get(0).complete(putAt(7));
    assertThat(write.join()).isEqualTo(7);
  }

  @Test
  void oneOpPerTxn_everyWriteIsAPutAtOnce() {
    WriteBatcher unbatched = new WriteBatcher(puts, txns, 1, size -> {});

    unbatched.write(put("a", "1"));
    unbatched.write(put("b", "1"));

    assertThat(puts.requests).containsExactly(put("a", "1"), put("b", "1"));
    assertThat(txns.requests).isEmpty();
  }

  @Test
  void writesThatArriveWhileOneIsOut_leaveAfterItAsOneTxn_eachAnsweredWithItsRevision() {
    CompletableFuture<Long> first = batcher.write(put("a", "1"));
    CompletableFuture<Long> b = batcher.write(put("b", "2"));
    CompletableFuture<Long> c = batcher.write(put("c", "3"));
    assertThat(txns.requests).as("nothing leaves before the write out is answered").isEmpty();

    puts.answers.get(0).complete(putAt(7));

    assertThat(first.join()).isEqualTo(7);
    assertThat(txns.requests).singleElement();
    assertThat(txns.requests.get(0).getCompareCount()).isZero();
    assertThat(txns.requests.get(0).getSuccessList())
        .extracting(op -> op.getRequestPut())
        .containsExactly(put("b", "2"), put("c", "3"));
    txns.answers.get(0).complete(txnAt(8, 2));
    assertThat(b.join()).isEqualTo(8);
    assertThat(c.join()).isEqualTo(8);
  }

  @Test
  void writeOfTheKeyOnItsWay_goesAloneAtOnce() {
    CompletableFuture<Long> first = batcher.write(put("a", "1"));
    CompletableFuture<Long> second = batcher.write(put("a", "2"));

    assertThat(puts.requests)
        .as("a key every caller writes waits for no round trip")
        .containsExactly(put("a", "1"), put("a", "2"));
    puts.answers.get(1).complete(putAt(7));
    assertThat(second.join()).isEqualTo(7);
    assertThat(first).isNotDone();
  }

  @Test
  void writeOfAWaitingKey_goesAloneAtOnce_theWaitingOneStaysInTheNextTxn() {
    batcher.write(put("first", "x"));
    CompletableFuture<Long> b1 = batcher.write(put("b", "1"));
    CompletableFuture<Long> c = batcher.write(put("c", "1"));
    CompletableFuture<Long> b2 = batcher.write(put("b", "2"));

    assertThat(puts.requests).containsExactly(put("first", "x"), put("b", "2"));
    puts.answers.get(1).complete(putAt(7));
    assertThat(b2.join()).isEqualTo(7);

    puts.answers.get(0).complete(putAt(8));
    assertThat(txns.requests).singleElement();
    assertThat(txns.requests.get(0).getSuccessList())
        .extracting(op -> op.getRequestPut())
        .containsExactly(put("b", "1"), put("c", "1"));
    txns.answers.get(0).complete(txnAt(9, 2));
    assertThat(List.of(b1.join(), c.join())).containsExactly(9L, 9L);
  }

  @Test
  void manyWrites_splitIntoTxnsOfAtMostMaxOps() {
    batcher.write(put("first", "x"));
    List<CompletableFuture<Long>> writes = new ArrayList<>();
    for (int i = 0; i < MAX_OPS + 2; i++) {
      writes.add(batcher.write(put("k" + i, "v")));
    }

    puts.answers.get(0).complete(putAt(7));
    assertThat(txns.requests).singleElement();
    assertThat(txns.requests.get(0).getSuccessCount()).isEqualTo(MAX_OPS);
    txns.answers.get(0).complete(txnAt(8, MAX_OPS));

    assertThat(txns.requests).hasSize(2);
    assertThat(txns.requests.get(1).getSuccessCount()).isEqualTo(2);
    assertThat(writes.subList(0, MAX_OPS)).allMatch(CompletableFuture::isDone);
    assertThat(writes.get(MAX_OPS)).isNotDone();
  }

  @Test
  void largeWrites_splitWithinTheRequestSizeLimit() {
    String half = "v".repeat(WriteBatcher.MAX_REQUEST_BYTES / 2);
    batcher.write(put("first", "x"));
    batcher.write(put("a", half));
    batcher.write(put("b", half));

    puts.answers.get(0).complete(putAt(7));

    assertThat(txns.requests).as("two halves and their keys are over the limit: a alone").isEmpty();
    assertThat(puts.requests)
        .extracting(PutRequest::getKey)
        .containsExactly(utf8("first"), utf8("a"));
  }

  @Test
  void txnRefusedAsAWhole_eachWriteIsSentAloneAndGetsItsOwnAnswer() {
    batcher.write(put("first", "x"));
    CompletableFuture<Long> allowed = batcher.write(put("alice/a", "1"));
    CompletableFuture<Long> denied = batcher.write(put("bob/b", "2"));
    puts.answers.get(0).complete(putAt(7));

    txns.answers.get(0).completeExceptionally(denied());
    CompletableFuture<Long> later = batcher.write(put("carol/c", "3"));

    assertThat(puts.requests)
        .extracting(PutRequest::getKey)
        .containsExactly(utf8("first"), utf8("alice/a"), utf8("bob/b"));
    puts.answers.get(1).complete(putAt(8));
    assertThat(puts.requests).as("the next write waits for those alone").hasSize(3);
    puts.answers.get(2).completeExceptionally(denied());
    assertThat(allowed.join()).isEqualTo(8);
    assertThat(denied).isCompletedExceptionally();
    assertThat(puts.requests).hasSize(4);
    assertThat(puts.requests.get(3)).isEqualTo(put("carol/c", "3"));
    puts.answers.get(3).complete(putAt(9));
    assertThat(later.join()).isEqualTo(9);
    assertThat(txns.requests).hasSize(1);
  }

  @Test
  void txnThatMayHaveBeenApplied_isNeverSentAgain() {
    batcher.write(put("first", "x"));
    CompletableFuture<Long> b = batcher.write(put("b", "1"));
    CompletableFuture<Long> c = batcher.write(put("c", "1"));
    puts.answers.get(0).complete(putAt(7));

    txns.answers
        .get(0)
        .completeExceptionally(new KvException(KvException.Code.DEADLINE_EXCEEDED, "late"));

    assertThat(puts.requests).hasSize(1);
    assertThat(txns.requests).hasSize(1);
    assertThat(b).isCompletedExceptionally();
    assertThat(c).isCompletedExceptionally();
  }

  /**
   * Writes of a few keys arrive between answers given in a random order, some Txns refused as a
   * whole, some failed after they may have been applied: no Txn holds one key twice, and every
   * write is answered, applied exactly once unless it failed, never sent again once it may have
   * been applied.
   */
  @Test
  void anyInterleaving_noTxnHoldsAKeyTwice_everyWriteAppliedOnce() {
    for (int seed = 0; seed < 200; seed++) {
      Random random = new Random(seed);
      CallsAnsweredByHand<PutRequest, PutResponse> puts = new CallsAnsweredByHand<>();
      CallsAnsweredByHand<TxnRequest, TxnResponse> txns = new CallsAnsweredByHand<>();
      WriteBatcher batcher = new WriteBatcher(puts, txns, MAX_OPS, size -> {});
      Map<ByteString, Integer> applied = new HashMap<>();
      List<CompletableFuture<Long>> writes = new ArrayList<>();
      long revision = 0;
      while (true) {
        List<CompletableFuture<?>> open = new ArrayList<>();
        open.addAll(puts.answers.stream().filter(answer -> !answer.isDone()).toList());
        open.addAll(txns.answers.stream().filter(answer -> !answer.isDone()).toList());
        if (writes.size() < 40 && (open.isEmpty() || random.nextBoolean())) {
          String key = "k" + random.nextInt(3);
          writes.add(batcher.write(put(key, "w" + writes.size())));
          continue;
        }
        if (open.isEmpty()) {
          break;
        }
        CompletableFuture<?> answer = open.get(random.nextInt(open.size()));
        int call = puts.answers.indexOf(answer);
        if (call >= 0) {
          applied.merge(puts.requests.get(call).getValue(), 1, Integer::sum);
          puts.answers.get(call).complete(putAt(++revision));
          continue;
        }
        TxnRequest txn = txns.requests.get(txns.answers.indexOf(answer));
        assertThat(txn.getSuccessList())
            .as("seed %d: the keys of one Txn", seed)
            .extracting(op -> op.getRequestPut().getKey())
            .doesNotHaveDuplicates();
        int outcome = random.nextInt(4);
        if (outcome == 0) {
          txns.answers.get(txns.answers.indexOf(answer)).completeExceptionally(denied());
          continue;
        }
        txn.getSuccessList()
            .forEach(op -> applied.merge(op.getRequestPut().getValue(), 1, Integer::sum));
        if (outcome == 1) {
          txns.answers
              .get(txns.answers.indexOf(answer))
              .completeExceptionally(new KvException(KvException.Code.UNAVAILABLE, "gone"));
        } else {
          txns.answers
              .get(txns.answers.indexOf(answer))
              .complete(txnAt(++revision, txn.getSuccessCount()));
        }
      }
      assertThat(writes)
          .as("seed %d: every write answered", seed)
          .allMatch(CompletableFuture::isDone);
      for (int i = 0; i < writes.size(); i++) {
        assertThat(applied.get(utf8("w" + i))).as("seed %d: w%d applied", seed, i).isEqualTo(1);
      }
    }
  }

  private static KvException denied() {
    return new KvException(KvException.Code.PERMISSION_DENIED, "permission denied");
  }

  private static ByteString utf8(String text) {
    return ByteString.copyFromUtf8(text);
  }

  private static PutRequest put(String key, String value) {
    return PutRequest.newBuilder().setKey(utf8(key)).setValue(utf8(value)).build();
  }

  private static PutResponse putAt(long revision) {
    return PutResponse.newBuilder()
        .setHeader(ResponseHeader.newBuilder().setRevision(revision))
        .build();
  }

  private static TxnResponse txnAt(long revision, int puts) {
    TxnResponse.Builder response =
        TxnResponse.newBuilder()
            .setSucceeded(true)
            .setHeader(ResponseHeader.newBuilder().setRevision(revision));
    for (int i = 0; i < puts; i++) {
      response.addResponses(
          ResponseOp.newBuilder().setResponsePut(PutResponse.getDefaultInstance()));
    }
    return response.build();
  }
}
