package dev.kv.core.etcd;

import dev.kv.etcd.api.etcdserverpb.WatchCreateRequest;
import dev.kv.etcd.api.etcdserverpb.WatchGrpc;
import dev.kv.etcd.api.etcdserverpb.WatchRequest;
import dev.kv.etcd.api.etcdserverpb.WatchResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The oldest revision etcd keeps, which its answer to a read at a compacted revision does not say:
 * a watch from that revision is told it ({@code compact_revision}) as etcd cancels it. Asked only
 * on that error's path, to word it.
 */
final class OldestRevision {

  private final WatchGrpc.WatchStub watch;
  private final Duration timeout;

  OldestRevision(WatchGrpc.WatchStub watch, Duration timeout) {
    this.watch = watch;
    this.timeout = timeout;
  }

  /** The oldest revision kept, found after {@code compacted}; fails when etcd does not say. */
  CompletableFuture<Long> after(long compacted) {
    CompletableFuture<Long> oldest = new CompletableFuture<>();
    WatchRequest request =
        WatchRequest.newBuilder()
            .setCreateRequest(
                WatchCreateRequest.newBuilder()
                    .setKey(EtcdMessages.FIRST_KEY)
                    .setStartRevision(compacted))
            .build();
    watch
        .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
        .watch(new Answer(oldest))
        .onNext(request);
    return oldest;
  }

  /** Waits for the cancel that carries the compact revision, then ends the watch. */
  private static final class Answer implements ClientResponseObserver<WatchRequest, WatchResponse> {
    private final CompletableFuture<Long> oldest;
    private ClientCallStreamObserver<WatchRequest> call;

    Answer(CompletableFuture<Long> oldest) {
      this.oldest = oldest;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchRequest> call) {
      this.call = call;
    }

    @Override
    public void onNext(WatchResponse response) {
      if (response.getCompactRevision() > 0) {
        oldest.complete(response.getCompactRevision());
      } else if (response.getCanceled() || response.getEventsCount() > 0) {
        oldest.completeExceptionally(
            new IllegalStateException("etcd did not say which revision it compacted"));
      } else {
        return; // created: the cancel follows
      }
      call.cancel("the compact revision is known", null);
    }

    @Override
    public void onError(Throwable error) {
      oldest.completeExceptionally(error);
    }

    @Override
    public void onCompleted() {
      oldest.completeExceptionally(new IllegalStateException("etcd ended the watch"));
    }
  }
}
