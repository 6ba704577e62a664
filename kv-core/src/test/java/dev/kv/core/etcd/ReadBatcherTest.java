package dev.kv.core.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.kv.core.KvException;
import dev.kv.etcd.api.etcdserverpb.RangeRequest;
import dev.kv.etcd.api.etcdserverpb.RangeResponse;
import dev.kv.etcd.api.etcdserverpb.ResponseOp;
import dev.kv.etcd.api.etcdserverpb.TxnRequest;
import dev.kv.etcd.api.etcdserverpb.TxnResponse;
import dev.kv.etcd.api.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The batching of linearizable reads, against calls this test answers by hand. */
class ReadBatcherTest {

  /** etcd's default limit of operations in one Txn (--max-txn-ops). */
  private static final int MAX_KEYS = 128;

  private final CallsAnsweredByHand<RangeRequest, RangeResponse> ranges =
      new CallsAnsweredByHand<>();
  private final CallsAnsweredByHand<TxnRequest, TxnResponse> txns = new CallsAnsweredByHand<>();

  private final ReadBatcher batcher = new ReadBatcher(ranges, txns, MAX_KEYS, size -> {});

  @Test
  void readAlone_isOneRange() {
    CompletableFuture<RangeResponse> read = batcher.read(key("a"));

    assertThat(ranges.requests).extracting(RangeRequest::getKey).containsExactly(key("a"));
    ranges.answers.get(0).complete(found("a", "1"));
    assertThat(read.join()).isEqualTo(found("a", "1"));
  }

  @Test
  void oneOpPerTxn_everyReadIsARangeAtOnce() {
    ReadBatcher unbatched = new ReadBatcher(ranges, txns, 1, size -> {});

    unbatched.read(key("a"));
    unbatched.read(key("b"));

    assertThat(ranges.requests)
        .extracting(RangeRequest::getKey)
        .containsExactly(key("a"), key("b"));
    assertThat(txns.requests).isEmpty();
  }

  @Test
  void readsThatArriveWhileOneIsOut_leaveTogetherAfterIt_oneRangePerDistinctKey() {
    CompletableFuture<RangeResponse> first = batcher.read(key("a"));
    CompletableFuture<RangeResponse> b1 = batcher.read(key("b"));
    CompletableFuture<RangeResponse> c = batcher.read(key("c"));
    CompletableFuture<RangeResponse> b2 = batcher.read(key("b"));
    assertThat(txns.requests).as("nothing leaves before the read out is answered").isEmpty();

    ranges.answers.get(0).complete(found("a", "1"));

    assertThat(first.join()).isEqualTo(found("a", "1"));
    assertThat(txns.requests).singleElement();
    assertThat(txns.requests.get(0).getCompareCount()).isZero();
    assertThat(txns.requests.get(0).getSuccessList())
        .extracting(op -> op.getRequestRange().getKey())
        .containsExactly(key("b"), key("c"));
    txns.answers.get(0).complete(answers(found("b", "2"), found("c", "3")));
    assertThat(b1.join()).isEqualTo(found("b", "2"));
    assertThat(b2.join()).isEqualTo(found("b", "2"));
    assertThat(c.join()).isEqualTo(found("c", "3"));
  }

  @Test
  void failedBatch_readsEachAloneAgain() {
    batcher.read(key("a"));
    CompletableFuture<RangeResponse> b = batcher.read(key("b"));
    CompletableFuture<RangeResponse> c = batcher.read(key("c"));
    ranges.answers.get(0).complete(found("a", "1"));

    txns.answers
        .get(0)
        .completeExceptionally(new KvException(KvException.Code.UNAVAILABLE, "gone"));

    assertThat(ranges.requests)
        .extracting(RangeRequest::getKey)
        .containsExactly(key("a"), key("b"), key("c"));
    ranges.answers.get(1).complete(found("b", "2"));
    ranges
        .answers
        .get(2)
        .completeExceptionally(new KvException(KvException.Code.UNAVAILABLE, "still"));
    assertThat(b.join()).isEqualTo(found("b", "2"));
    assertThat(c).isCompletedExceptionally();
  }

  @Test
  void manyKeys_splitIntoTxnsOfAtMostTheLimit() {
    batcher.read(key("first"));
    List<CompletableFuture<RangeResponse>> reads = new ArrayList<>();
    for (int i = 0; i < MAX_KEYS + 10; i++) {
      reads.add(batcher.read(key("k" + i)));
    }

    ranges.answers.get(0).complete(found("first", "x"));
    assertThat(txns.requests)
        .singleElement()
        .satisfies(txn -> assertThat(txn.getSuccessCount()).isEqualTo(MAX_KEYS));
    txns.answers.get(0).complete(answers(MAX_KEYS));

    assertThat(txns.requests).hasSize(2);
    assertThat(txns.requests.get(1).getSuccessCount()).isEqualTo(10);
    assertThat(reads.subList(0, MAX_KEYS)).allMatch(CompletableFuture::isDone);
    assertThat(reads.get(MAX_KEYS)).isNotDone();
  }

  private static ByteString key(String key) {
    return ByteString.copyFromUtf8(key);
  }

  private static RangeResponse found(String key, String value) {
    return RangeResponse.newBuilder()
        .addKvs(KeyValue.newBuilder().setKey(key(key)).setValue(key(value)).setModRevision(2))
        .setCount(1)
        .build();
  }

  private static TxnResponse answers(RangeResponse... ranges) {
    TxnResponse.Builder response = TxnResponse.newBuilder().setSucceeded(true);
    for (RangeResponse range : ranges) {
      response.addResponses(ResponseOp.newBuilder().setResponseRange(range));
    }
    return response.build();
  }

  private static TxnResponse answers(int count) {
    RangeResponse[] empty = new RangeResponse[count];
    java.util.Arrays.fill(empty, RangeResponse.getDefaultInstance());
    return answers(empty);
  }
}
