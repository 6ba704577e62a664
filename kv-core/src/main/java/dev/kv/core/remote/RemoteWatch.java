package dev.kv.core.remote;

import dev.kv.api.KVGrpc;
import dev.kv.api.WatchRequest;
import dev.kv.api.WatchResponse;
import dev.kv.core.KvException;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.grpc.ApiMessages;
import dev.kv.core.grpc.ResumingWatch;
import dev.kv.core.grpc.StoreConnection;
import io.grpc.Status;

/** One watch on a kv.KV/Watch stream, reopened when the server or the connection comes back. */
final class RemoteWatch extends ResumingWatch<WatchRequest> {
  private final WatchQuery query;
  private final KVGrpc.KVStub kv;
  private final StoreConnection connection;

  RemoteWatch(
      WatchQuery query, WatchListener listener, KVGrpc.KVStub kv, StoreConnection connection) {
    super(query.startRevision(), listener, connection);
    this.query = query;
    this.kv = kv;
    this.connection = connection;
  }

  @Override
  protected void open(long from) {
    WatchRequest request;
    try {
      request = ApiMessages.request(new WatchQuery(query.from(), query.to(), from));
    } catch (KvException e) {
      end(e);
      return;
    }
    kv.watch(request, stream(this::receive, this::failed));
  }

  private void receive(WatchResponse response) {
    if (response.getCreated()) {
      created(response.getRevision());
      return;
    }
    WatchEvent event = ApiMessages.event(response);
    if (deliver(event)) {
      progressed(event.revision());
    }
  }

  private void failed(Throwable error) {
    Status status = Status.fromThrowable(error);
    if (resumable(status.getCode())) {
      reopenLater();
    } else if (!ended()) {
      end(connection.failure(status.asRuntimeException()));
    }
  }

  /**
   * Whether a stream that ended with {@code code} is opened again: one the connection broke, one
   * the server ended because this client fell behind reading it, and one reset on its way once
   * started (a proxy such as Envoy resets the streams of a server it lost, which gRPC reports as
   * INTERNAL). A watch the server refused from the start ends with the error.
   */
  private boolean resumable(Status.Code code) {
    return code == Status.Code.UNAVAILABLE
        || code == Status.Code.CANCELLED
        || ((code == Status.Code.RESOURCE_EXHAUSTED || code == Status.Code.INTERNAL)
            && started().isDone());
  }
}
