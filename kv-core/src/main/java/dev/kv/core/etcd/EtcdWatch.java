package dev.kv.core.etcd;

import dev.kv.core.KvException;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.grpc.ResumingWatch;
import dev.kv.core.grpc.StoreConnection;
import dev.kv.etcd.api.etcdserverpb.WatchGrpc;
import dev.kv.etcd.api.etcdserverpb.WatchRequest;
import dev.kv.etcd.api.etcdserverpb.WatchResponse;
import dev.kv.etcd.api.mvccpb.Event;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.util.Optional;

/**
 * One watch on an etcd watch stream, reopened on whichever member answers when it breaks: etcd's
 * watch protocol, as its answers on the stream tell what was created, what progressed, what changed
 * and why a watch was cancelled.
 */
final class EtcdWatch extends ResumingWatch<WatchRequest> {

  private final WatchQuery query;
  private final WatchGrpc.WatchStub stub;
  private final StoreConnection connection;
  private final EtcdErrors errors;

  EtcdWatch(
      WatchQuery query,
      WatchListener listener,
      WatchGrpc.WatchStub stub,
      StoreConnection connection,
      EtcdErrors errors) {
    super(query.startRevision(), listener, connection);
    this.query = query;
    this.stub = stub;
    this.connection = connection;
    this.errors = errors;
  }

  /**
   * {@code stub}, its watches cancelled by a member without a leader rather than kept silently
   * stalled: another member may serve them.
   */
  static WatchGrpc.WatchStub requiringLeader(WatchGrpc.WatchStub stub) {
    Metadata requireLeader = new Metadata();
    requireLeader.put(Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER), "true");
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(requireLeader));
  }

  @Override
  protected void open(long from) {
    stub.watch(stream((WatchResponse response) -> receive(response, from), this::failed))
        .onNext(EtcdMessages.watch(query, from));
  }

  private void failed(Throwable error) {
    if (error instanceof StatusRuntimeException status) {
      errors.repair(status);
    }
    reopenLater();
  }

  private void receive(WatchResponse response, long from) {
    if (ended()) {
      return;
    }
    if (response.getCanceled()) {
      cancelled(response, from);
      return;
    }
    long header = response.getHeader().getRevision();
    if (response.getCreated()) {
      // Not progress: its header is the current revision, and a stream opened from an older one
      // replays the changes in between only after it.
      created(header + 1);
      return;
    }
    if (response.getEventsCount() == 0) {
      // A progress notice: nothing up to the header revision is left to deliver. etcd sends one
      // only to a watcher that has caught up, on the same channel as its events.
      progressed(header);
      return;
    }
    for (Event event : response.getEventsList()) {
      // Another etcd client's key that no kv query can name, nor any listener use, is passed over.
      Optional<WatchEvent> delivered = EtcdMessages.event(event);
      if (delivered.isPresent() && !deliver(delivered.get())) {
        return;
      }
    }
    // Only once the whole revision is delivered: a reopen resends none of it, skips none.
    progressed(response.getEvents(response.getEventsCount() - 1).getKv().getModRevision());
  }

  private void cancelled(WatchResponse response, long from) {
    if (response.getCompactRevision() > 0) {
      end(EtcdErrors.compacted(from, response.getCompactRevision()));
    } else if (errors.deniesWatch(response.getCancelReason())) {
      end(
          new KvException(
              KvException.Code.PERMISSION_DENIED,
              connection.peer() + " denied the watch: " + response.getCancelReason()));
    } else {
      reopenLater();
    }
  }
}
