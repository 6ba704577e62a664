package dev.kv.core.etcd;

import com.google.protobuf.ByteString;
import dev.kv.core.KvException;
import dev.kv.etcd.api.etcdserverpb.RangeRequest;
import dev.kv.etcd.api.etcdserverpb.RangeResponse;
import dev.kv.etcd.api.etcdserverpb.RequestOp;
import dev.kv.etcd.api.etcdserverpb.ResponseOp;
import dev.kv.etcd.api.etcdserverpb.TxnRequest;
import dev.kv.etcd.api.etcdserverpb.TxnResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Linearizable reads of single keys that arrive while one is on its way to etcd wait for it, then
 * go together: one read-only Txn of their Ranges, which etcd answers with one read index. Each read
 * still sees every write acknowledged before it arrived, since the Txn leaves after it did; under
 * load, etcd and the connection carry one call for many.
 */
final class ReadBatcher {

  /** etcd's default limit of operations in one Txn (--max-txn-ops). */
  static final int MAX_KEYS = 128;

  private final Function<RangeRequest, CompletableFuture<RangeResponse>> range;
  private final Function<TxnRequest, CompletableFuture<TxnResponse>> txn;

  private final Object lock = new Object();
  private List<Read> waiting = new ArrayList<>();
  private boolean sending;

  /**
   * @param range one Range call (retried on UNAVAILABLE), for a read alone
   * @param txn one Txn call, for reads together
   */
  ReadBatcher(
      Function<RangeRequest, CompletableFuture<RangeResponse>> range,
      Function<TxnRequest, CompletableFuture<TxnResponse>> txn) {
    this.range = range;
    this.txn = txn;
  }

  private record Read(ByteString key, CompletableFuture<RangeResponse> answer) {}

  /** Reads {@code key} linearizably, alone or with the reads that arrive meanwhile. */
  CompletableFuture<RangeResponse> read(ByteString key) {
    Read read = new Read(key, new CompletableFuture<>());
    synchronized (lock) {
      if (sending) {
        waiting.add(read);
        return read.answer;
      }
      sending = true;
    }
    send(List.of(read));
    return read.answer;
  }

  private void send(List<Read> reads) {
    if (reads.size() == 1) {
      Read read = reads.get(0);
      range
          .apply(RangeRequest.newBuilder().setKey(read.key).build())
          .whenComplete(
              (response, error) -> {
                sendIfAny(next());
                complete(read, response, error);
              });
      return;
    }
    Map<ByteString, Integer> index = new LinkedHashMap<>();
    TxnRequest.Builder request = TxnRequest.newBuilder();
    for (Read read : reads) {
      index.computeIfAbsent(
          read.key,
          key -> {
            request.addSuccess(
                RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)));
            return index.size();
          });
    }
    txn.apply(request.build())
        .whenComplete(
            (response, error) -> {
              // The next batch leaves first: answering these may take a while.
              sendIfAny(next());
              for (Read read : reads) {
                if (error != null) {
                  // Each alone, with the retries a Range has.
                  range
                      .apply(RangeRequest.newBuilder().setKey(read.key).build())
                      .whenComplete((single, failure) -> complete(read, single, failure));
                } else {
                  ResponseOp op = response.getResponses(index.get(read.key));
                  complete(read, op.getResponseRange(), null);
                }
              }
            });
  }

  /** The reads that arrived meanwhile, up to a Txn's worth; none ends the sending. */
  private List<Read> next() {
    synchronized (lock) {
      if (waiting.isEmpty()) {
        sending = false;
        return List.of();
      }
      List<Read> next = new ArrayList<>();
      Map<ByteString, Boolean> keys = new LinkedHashMap<>();
      int taken = 0;
      for (Read read : waiting) {
        if (keys.putIfAbsent(read.key, true) == null && keys.size() > MAX_KEYS) {
          break;
        }
        next.add(read);
        taken++;
      }
      waiting = new ArrayList<>(waiting.subList(taken, waiting.size()));
      return next;
    }
  }

  private void sendIfAny(List<Read> next) {
    if (!next.isEmpty()) {
      send(next);
    }
  }

  private static void complete(Read read, RangeResponse response, Throwable error) {
    if (error == null) {
      read.answer.complete(response);
    } else {
      read.answer.completeExceptionally(
          error instanceof KvException || error.getCause() == null ? error : error.getCause());
    }
  }
}
