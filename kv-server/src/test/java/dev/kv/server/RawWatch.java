package dev.kv.server;

import dev.kv.api.KVGrpc;
import dev.kv.api.WatchRequest;
import dev.kv.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.CompletableFuture;

/** A watch on a raw stream: its first answer is CREATED or the status code it failed with. */
final class RawWatch {
  final CompletableFuture<String> first = new CompletableFuture<>();
  private volatile ClientCallStreamObserver<WatchRequest> call;

  static RawWatch open(ManagedChannel channel, String key) {
    RawWatch watch = new RawWatch();
    KVGrpc.newStub(channel)
        .watch(
            WatchRequest.newBuilder().setKey(key).build(),
            new ClientResponseObserver<WatchRequest, WatchResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<WatchRequest> stream) {
                watch.call = stream;
              }

              @Override
              public void onNext(WatchResponse response) {
                watch.first.complete(response.getCreated() ? "CREATED" : "EVENT");
              }

              @Override
              public void onError(Throwable error) {
                watch.first.complete(Status.fromThrowable(error).getCode().name());
              }

              @Override
              public void onCompleted() {
                watch.first.complete("COMPLETED");
              }
            });
    return watch;
  }

  boolean created() {
    return "CREATED".equals(first.getNow(null));
  }

  void cancel() {
    call.cancel("done", null);
  }
}
