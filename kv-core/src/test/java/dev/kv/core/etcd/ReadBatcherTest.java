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

  private final List<RangeRequest> ranges = new ArrayList<>();
  private final List<CompletableFuture<RangeResponse>> rangeAnswers = new ArrayList<>();
  private final List<TxnRequest> txns = new ArrayList<>();
  private final List<CompletableFuture<TxnResponse>> txnAnswers = new ArrayList<>();

  private final ReadBatcher batcher =
      new ReadBatcher(
          request -> {
            ranges.add(request);
            CompletableFuture<RangeResponse> answer = new CompletableFuture<>();
            rangeAnswers.add(answer);
            return answer;
          },
          request -> {
            txns.add(request);
            CompletableFuture<TxnResponse> answer = new CompletableFuture<>();
            txnAnswers.add(answer);
            return answer;
          },
          MAX_KEYS);

  @Test
  void readAlone_isOneRange() {
    CompletableFuture<RangeResponse> read = batcher.read(key("a"));

    assertThat(ranges).extracting(RangeRequest::getKey).containsExactly(key("a"));
    rangeAnswers.get(0).complete(found("a", "1"));
    assertThat(read.join()).isEqualTo(found("a", "1"));
  }

  @Test
  void readsThatArriveWhileOneIsOut_leaveTogetherAfterIt_oneRangePerDistinctKey() {
    CompletableFuture<RangeResponse> first = batcher.read(key("a"));
    CompletableFuture<RangeResponse> b1 = batcher.read(key("b"));
    CompletableFuture<RangeResponse> c = batcher.read(key("c"));
    CompletableFuture<RangeResponse> b2 = batcher.read(key("b"));
    assertThat(txns).as("nothing leaves before the read out is answered").isEmpty();

    rangeAnswers.get(0).complete(found("a", "1"));

    assertThat(first.join()).isEqualTo(found("a", "1"));
    assertThat(txns).singleElement();
    assertThat(txns.get(0).getCompareCount()).isZero();
    assertThat(txns.get(0).getSuccessList())
        .extracting(op -> op.getRequestRange().getKey())
        .containsExactly(key("b"), key("c"));
    txnAnswers.get(0).complete(answers(found("b", "2"), found("c", "3")));
    assertThat(b1.join()).isEqualTo(found("b", "2"));
    assertThat(b2.join()).isEqualTo(found("b", "2"));
    assertThat(c.join()).isEqualTo(found("c", "3"));
  }

  @Test
  void failedBatch_readsEachAloneAgain() {
    batcher.read(key("a"));
    CompletableFuture<RangeResponse> b = batcher.read(key("b"));
    CompletableFuture<RangeResponse> c = batcher.read(key("c"));
    rangeAnswers.get(0).complete(found("a", "1"));

    txnAnswers.get(0).completeExceptionally(new KvException(KvException.Code.UNAVAILABLE, "gone"));

    assertThat(ranges)
        .extracting(RangeRequest::getKey)
        .containsExactly(key("a"), key("b"), key("c"));
    rangeAnswers.get(1).complete(found("b", "2"));
    rangeAnswers
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

    rangeAnswers.get(0).complete(found("first", "x"));
    assertThat(txns)
        .singleElement()
        .satisfies(txn -> assertThat(txn.getSuccessCount()).isEqualTo(MAX_KEYS));
    txnAnswers.get(0).complete(answers(MAX_KEYS));

    assertThat(txns).hasSize(2);
    assertThat(txns.get(1).getSuccessCount()).isEqualTo(10);
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
