package dev.kv.server;

import dev.kv.api.KVGrpc;
import dev.kv.api.WatchRequest;
import dev.kv.api.WatchResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.CompletableFuture;

/**
 * A watch on a raw call whose client takes its first answer and then reads no more, as a client
 * that hangs would: what the server sends it waits in flow control and then on the server.
 */
final class StalledWatch {
  final CompletableFuture<Boolean> created = new CompletableFuture<>();

  static StalledWatch open(ManagedChannel channel, String prefix) {
    StalledWatch watch = new StalledWatch();
    ClientCall<WatchRequest, WatchResponse> call =
        channel.newCall(KVGrpc.getWatchMethod(), CallOptions.DEFAULT);
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onMessage(WatchResponse response) {
            watch.created.complete(response.getCreated());
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            watch.created.completeExceptionally(status.asRuntimeException());
          }
        },
        new Metadata());
    call.request(1);
    call.sendMessage(WatchRequest.newBuilder().setKey(prefix).setPrefix(true).build());
    call.halfClose();
    return watch;
  }
}
