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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The batching of unconditional writes, against calls this test answers by hand. */
class WriteBatcherTest {

  private static final int MAX_OPS = 4;

  private final CallsAnsweredByHand<PutRequest, PutResponse> puts = new CallsAnsweredByHand<>();
  private final CallsAnsweredByHand<TxnRequest, TxnResponse> txns = new CallsAnsweredByHand<>();

  private final WriteBatcher batcher = new WriteBatcher(puts, txns, MAX_OPS);

  @Test
  void writeAlone_isOnePutAtOnce() {
    CompletableFuture<Long> write = batcher.write(put("a", "1"));

    assertThat(puts.requests).containsExactly(put("a", "1"));
    puts.answers.get(0).complete(putAt(7));
    assertThat(write.join()).isEqualTo(7);
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
  void writesToOneKey_leaveInOrder_inSeparateTxns() {
    batcher.write(put("a", "0"));
    CompletableFuture<Long> a1 = batcher.write(put("a", "1"));
    CompletableFuture<Long> b = batcher.write(put("b", "1"));
    CompletableFuture<Long> a2 = batcher.write(put("a", "2"));
    CompletableFuture<Long> c = batcher.write(put("c", "1"));

    puts.answers.get(0).complete(putAt(7));
    assertThat(txns.requests).singleElement();
    assertThat(txns.requests.get(0).getSuccessList())
        .extracting(op -> op.getRequestPut())
        .containsExactly(put("a", "1"), put("b", "1"), put("c", "1"));
    txns.answers.get(0).complete(txnAt(8, 3));

    assertThat(puts.requests).as("the second write of a, alone").hasSize(2);
    assertThat(puts.requests.get(1)).isEqualTo(put("a", "2"));
    puts.answers.get(1).complete(putAt(9));
    assertThat(List.of(a1.join(), b.join(), c.join(), a2.join())).containsExactly(8L, 8L, 8L, 9L);
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
    CompletableFuture<Long> later = batcher.write(put("alice/a", "2"));
    puts.answers.get(0).complete(putAt(7));

    txns.answers.get(0).completeExceptionally(denied());

    assertThat(puts.requests)
        .extracting(PutRequest::getKey)
        .containsExactly(utf8("first"), utf8("alice/a"), utf8("bob/b"));
    puts.answers.get(1).complete(putAt(8));
    assertThat(puts.requests).as("the next write waits for those alone").hasSize(3);
    puts.answers.get(2).completeExceptionally(denied());
    assertThat(allowed.join()).isEqualTo(8);
    assertThat(denied).isCompletedExceptionally();
    assertThat(puts.requests).hasSize(4);
    assertThat(puts.requests.get(3)).isEqualTo(put("alice/a", "2"));
    puts.answers.get(3).complete(putAt(9));
    assertThat(later.join()).isEqualTo(9);
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
