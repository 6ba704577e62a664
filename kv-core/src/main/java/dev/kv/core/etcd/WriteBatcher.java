package dev.kv.core.etcd;

import com.google.protobuf.ByteString;
import dev.kv.core.KvException;
import dev.kv.etcd.api.etcdserverpb.PutRequest;
import dev.kv.etcd.api.etcdserverpb.PutResponse;
import dev.kv.etcd.api.etcdserverpb.RequestOp;
import dev.kv.etcd.api.etcdserverpb.TxnRequest;
import dev.kv.etcd.api.etcdserverpb.TxnResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * Unconditional writes (Puts) go to etcd at once while no write is on its way; otherwise they wait
 * for it to come back, then go together: one Txn of their Puts, which etcd applies at one revision,
 * the revision each of them is answered with.
 *
 * <p>A write of a key that is already waiting or on its way goes alone at once, as its own Put: it
 * is concurrent with that write, so either may be applied first, and a key written by every caller
 * costs no more than a Put per write. A Txn therefore never holds one key twice (etcd refuses such
 * a Txn), and a write answered before another of its key starts was applied at a lower revision.
 *
 * <p>A Txn that etcd refused as a whole, before applying any of it (too large, a key the user may
 * not write), is followed by each write alone, so that each gets its own answer. A Txn that failed
 * otherwise may have been applied: its writes fail as a Put would, and are never sent again.
 */
final class WriteBatcher {

  /** The Puts of one Txn, with room to spare under etcd's default --max-request-bytes (1.5 MiB). */
  static final int MAX_REQUEST_BYTES = 1 << 20;

  private final Function<PutRequest, CompletableFuture<PutResponse>> put;
  private final Function<TxnRequest, CompletableFuture<TxnResponse>> txn;
  private final int maxOps;
  private final IntConsumer batchSizes;

  private final Object lock = new Object();
  private List<Write> waiting = new ArrayList<>();
  private boolean inFlight;

  /** The keys of the writes waiting and of those on their way: at most one write of each. */
  private final Set<ByteString> keys = new HashSet<>();

  /**
   * @param put one Put call, for a write alone
   * @param txn one Txn call, for writes together
   * @param maxOps the most operations etcd takes in one Txn (its --max-txn-ops)
   * @param batchSizes told how many writes each call sends
   */
  WriteBatcher(
      Function<PutRequest, CompletableFuture<PutResponse>> put,
      Function<TxnRequest, CompletableFuture<TxnResponse>> txn,
      int maxOps,
      IntConsumer batchSizes) {
    this.put = put;
    this.txn = txn;
    this.maxOps = maxOps;
    this.batchSizes = batchSizes;
  }

  private record Write(PutRequest request, CompletableFuture<Long> answer) {}

  /** Applies {@code request}, alone or with the writes that arrive meanwhile: its revision. */
  CompletableFuture<Long> write(PutRequest request) {
    Write write = new Write(request, new CompletableFuture<>());
    if (maxOps == 1) {
      // One operation per Txn: each write a plain Put, none waiting for another.
      batchSizes.accept(1);
      return answerAlone(write);
    }
    synchronized (lock) {
      if (!keys.add(request.getKey())) {
        batchSizes.accept(1);
        return answerAlone(write);
      }
      if (inFlight) {
        waiting.add(write);
        return write.answer;
      }
      inFlight = true;
    }
    send(List.of(write));
    return write.answer;
  }

  private void send(List<Write> writes) {
    batchSizes.accept(writes.size());
    if (writes.size() == 1) {
      Write write = writes.get(0);
      sendAlone(write)
          .whenComplete(
              (response, error) -> {
                sendIfAny(next(writes));
                complete(write, response, error);
              });
      return;
    }
    TxnRequest.Builder request = TxnRequest.newBuilder();
    for (Write write : writes) {
      request.addSuccess(RequestOp.newBuilder().setRequestPut(write.request));
    }
    ReadBatcher.detached(() -> txn.apply(request.build()))
        .whenComplete(
            (response, error) -> {
              if (error != null && refusedWhole(ReadBatcher.cause(error))) {
                // Each alone; their keys stay on their way until all are answered.
                CompletableFuture.allOf(
                        writes.stream().map(this::answerAlone).toArray(CompletableFuture[]::new))
                    .whenComplete((done, failure) -> sendIfAny(next(writes)));
                return;
              }
              // The next batch leaves first: answering these may take a while.
              sendIfAny(next(writes));
              for (Write write : writes) {
                complete(
                    write, response == null ? null : response.getHeader().getRevision(), error);
              }
            });
  }

  private CompletableFuture<Long> sendAlone(Write write) {
    return ReadBatcher.detached(() -> put.apply(write.request))
        .thenApply(response -> response.getHeader().getRevision());
  }

  private CompletableFuture<Long> answerAlone(Write write) {
    return sendAlone(write).whenComplete((revision, error) -> complete(write, revision, error));
  }

  /**
   * Whether etcd refused a Txn before applying any of it, for something in the request, so that its
   * writes may be sent again alone: too large or too many operations, a key the user may not write,
   * a lease gone, no space.
   */
  private static boolean refusedWhole(Throwable error) {
    if (!(error instanceof KvException failure)) {
      return false;
    }
    return switch (failure.code()) {
      case INVALID_ARGUMENT, PERMISSION_DENIED, NOT_FOUND, RESOURCE_EXHAUSTED -> true;
      default -> false;
    };
  }

  /**
   * The writes that arrived while {@code done} was on its way, in order, up to a Txn's worth (of
   * distinct keys, as a key waits at most once); none frees the place in flight.
   */
  private List<Write> next(List<Write> done) {
    synchronized (lock) {
      for (Write write : done) {
        keys.remove(write.request.getKey());
      }
      if (waiting.isEmpty()) {
        inFlight = false;
        return List.of();
      }
      int count = 0;
      int bytes = 0;
      for (Write write : waiting) {
        int size = write.request.getSerializedSize();
        if (count == maxOps || (count > 0 && bytes + size > MAX_REQUEST_BYTES)) {
          break;
        }
        count++;
        bytes += size;
      }
      List<Write> next = List.copyOf(waiting.subList(0, count));
      waiting = new ArrayList<>(waiting.subList(count, waiting.size()));
      return next;
    }
  }

  private void sendIfAny(List<Write> next) {
    if (!next.isEmpty()) {
      send(next);
    }
  }

  private static void complete(Write write, Long revision, Throwable error) {
    if (error == null) {
      write.answer.complete(revision);
    } else {
      write.answer.completeExceptionally(ReadBatcher.cause(error));
    }
  }
}
