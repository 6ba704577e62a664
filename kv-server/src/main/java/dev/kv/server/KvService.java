package dev.kv.server;

import com.google.protobuf.ByteString;
import dev.kv.api.DeleteRequest;
import dev.kv.api.DeleteResponse;
import dev.kv.api.GetRequest;
import dev.kv.api.GetResponse;
import dev.kv.api.KVGrpc;
import dev.kv.api.ListRequest;
import dev.kv.api.ListResponse;
import dev.kv.api.SetRequest;
import dev.kv.api.SetResponse;
import dev.kv.api.SnapshotChunk;
import dev.kv.api.SnapshotRequest;
import dev.kv.api.StatusRequest;
import dev.kv.api.StatusResponse;
import dev.kv.api.WatchRequest;
import dev.kv.api.WatchResponse;
import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.KvVersion;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.StoreStatus;
import dev.kv.core.Swap;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.grpc.ApiMessages;
import dev.kv.core.grpc.GrpcErrors;
import dev.kv.core.grpc.StatusMessages;
import dev.kv.launch.Sizes;
import io.grpc.BindableService;
import io.grpc.Grpc;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@code kv.KV} service over a {@link KvStore}. Each method validates nothing itself: it calls
 * the store, which enforces the rules every store shares, and maps the answer or the error. No
 * thread waits for the store.
 */
final class KvService implements KVGrpc.AsyncService, BindableService {

  private static final Logger logger = Logger.getLogger(KvService.class.getName());

  private final KvStore store;
  private final Limits limits;
  private final WatchBudget watchBudget;
  private final EncodedEvents encodedEvents = new EncodedEvents();
  private final BooleanSupplier serving;
  private final long startedNanos = System.nanoTime();

  KvService(KvStore store, Limits limits, BooleanSupplier serving) {
    this(store, limits, serving, ServerMetrics.NONE);
  }

  /**
   * @param serving whether the server takes calls now, as its health service says
   */
  KvService(KvStore store, Limits limits, BooleanSupplier serving, ServerMetrics metrics) {
    this.store = store;
    this.limits = limits;
    this.serving = serving;
    this.watchBudget = new WatchBudget(metrics);
  }

  /**
   * Ends every open watch with UNAVAILABLE, for a server that stops: their clients resume them
   * elsewhere at once, from the revision they had reached, rather than wait out the grace period.
   */
  void endWatches() {
    watchBudget.closeAll(
        Status.UNAVAILABLE.withDescription("kv-server is stopping; resume the watch elsewhere"));
  }

  /** Refuses a key or a value larger than the limits, before the store sees it. */
  private void requireSize(String what, ByteString bytes, int limit) {
    if (bytes.size() > limit) {
      throw new KvException(
          KvException.Code.INVALID_ARGUMENT,
          what
              + " is "
              + bytes.size()
              + " bytes; this kv-server accepts at most "
              + Sizes.format(limit)
              + " ("
              + limit
              + " bytes)");
    }
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> responses) {
    String key = request.getKey();
    reply(
        () -> {
          requireSize("the key", request.getKeyBytes(), limits.maxKeyBytes());
          return store.get(key, ApiMessages.consistency(request.getConsistency()));
        },
        found -> ApiMessages.getResponse(text(found.orElseThrow(() -> KvException.notFound(key)))),
        responses);
  }

  /** A GetResponse carries text only: a value another etcd client wrote as bytes is refused. */
  private static KeyValue text(KeyValue entry) {
    if (!entry.isText()) {
      throw KvException.notText(entry);
    }
    return entry;
  }

  @Override
  public void set(SetRequest request, StreamObserver<SetResponse> responses) {
    try {
      requireSize("the key", request.getKeyBytes(), limits.maxKeyBytes());
      requireSize("the value", request.getValueBytes(), limits.maxValueBytes());
    } catch (KvException e) {
      responses.onError(statusOf(e).asRuntimeException());
      return;
    }
    if (!request.getIfAbsent() && request.getIfModRevision() == 0) {
      reply(
          () -> store.set(request.getKey(), request.getValue(), ttl(request)),
          revision -> SetResponse.newBuilder().setOk(true).setRevision(revision).build(),
          responses);
      return;
    }
    reply(
        () ->
            store.setIf(
                request.getKey(), request.getValue(), expectedRevision(request), ttl(request)),
        swap -> {
          SetResponse.Builder response =
              SetResponse.newBuilder().setOk(swap.applied()).setRevision(swap.revision());
          swap.current().ifPresent(entry -> response.setCurrent(ApiMessages.entry(entry)));
          return response.build();
        },
        responses);
  }

  private static Duration ttl(SetRequest request) {
    return Duration.ofSeconds(request.getTtlSeconds());
  }

  private static long expectedRevision(SetRequest request) {
    if (request.getIfAbsent() && request.getIfModRevision() != 0) {
      throw new KvException(
          KvException.Code.INVALID_ARGUMENT, "if_absent and if_mod_revision exclude each other");
    }
    return request.getIfAbsent() ? Swap.ABSENT : request.getIfModRevision();
  }

  @Override
  public void delete(DeleteRequest request, StreamObserver<DeleteResponse> responses) {
    try {
      requireSize("the key", request.getKeyBytes(), limits.maxKeyBytes());
    } catch (KvException e) {
      responses.onError(statusOf(e).asRuntimeException());
      return;
    }
    if (request.getIfModRevision() != 0) {
      reply(
          () -> {
            if (request.getPrefix()) {
              throw new KvException(
                  KvException.Code.INVALID_ARGUMENT, "a prefix delete cannot be conditional");
            }
            return store.deleteIf(request.getKey(), request.getIfModRevision());
          },
          swap -> {
            DeleteResponse.Builder response =
                DeleteResponse.newBuilder()
                    .setApplied(swap.applied())
                    .setDeleted(swap.applied() ? 1 : 0)
                    .setRevision(swap.revision());
            swap.current().ifPresent(entry -> response.setCurrent(ApiMessages.entry(entry)));
            return response.build();
          },
          responses);
      return;
    }
    reply(
        () ->
            request.getPrefix()
                ? store.deletePrefix(request.getKey())
                : store.delete(request.getKey()),
        deleted ->
            DeleteResponse.newBuilder()
                .setApplied(true)
                .setDeleted(deleted.count())
                .setRevision(deleted.revision())
                .build(),
        responses);
  }

  @Override
  public void list(ListRequest request, StreamObserver<ListResponse> responses) {
    reply(
        () -> {
          for (ByteString bound :
              List.of(
                  request.getPrefixBytes(),
                  request.getRangeStartBytes(),
                  request.getRangeEndBytes(),
                  request.getStartAfterBytes())) {
            requireSize("a key in the list request", bound, limits.maxKeyBytes());
          }
          return store.list(ApiMessages.query(request));
        },
        ApiMessages::response,
        responses);
  }

  @Override
  public void status(StatusRequest request, StreamObserver<StatusResponse> responses) {
    reply(
        store::status,
        status ->
            StatusMessages.response(
                status,
                new StoreStatus.Server(
                    KvVersion.get(),
                    serving.getAsBoolean(),
                    Duration.ofNanos(System.nanoTime() - startedNanos))),
        responses);
  }

  /**
   * Streams the store's snapshot as the store writes it, at the pace the client reads it (see
   * {@link SnapshotChunks}); a client that goes away stops the store's snapshot.
   */
  @Override
  public void snapshot(SnapshotRequest request, StreamObserver<SnapshotChunk> responses) {
    SnapshotChunks chunks = new SnapshotChunks((ServerCallStreamObserver<SnapshotChunk>) responses);
    CompletableFuture<SnapshotInfo> written;
    try {
      written = store.snapshot(chunks);
    } catch (RuntimeException e) {
      written = CompletableFuture.failedFuture(e);
    }
    written.whenComplete(
        (info, error) -> {
          try {
            if (error == null) {
              chunks.finish(info);
              return;
            }
          } catch (RuntimeException e) {
            error = e;
          }
          chunks.fail(error, KvService::statusOf);
        });
  }

  /**
   * The service as the generated code binds it, but for Watch, whose answers are encoded once for
   * every watch they go to and sent as they are (see {@link EncodedResponse}).
   */
  @Override
  public ServerServiceDefinition bindService() {
    return EncodedResponse.withWatch(
        KVGrpc.bindService(this),
        (call, headers) ->
            ServerCalls.<WatchRequest, EncodedResponse>asyncServerStreamingCall(
                    (request, responses) ->
                        watch(
                            request,
                            responses,
                            call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)))
                .startCall(call, headers));
  }

  /**
   * @param client the address of the client's connection, or null if the transport has none
   */
  private void watch(
      WatchRequest request, StreamObserver<EncodedResponse> responses, SocketAddress client) {
    ServerCallStreamObserver<EncodedResponse> out =
        (ServerCallStreamObserver<EncodedResponse>) responses;
    WatchQuery query;
    try {
      requireSize("the key", request.getKeyBytes(), limits.maxKeyBytes());
      query = ApiMessages.query(request);
    } catch (RuntimeException e) {
      out.onError(statusOf(e).asRuntimeException());
      return;
    }
    WatchStream stream =
        new WatchStream(out, watchBudget, Objects.requireNonNullElse(client, "a client"));
    Watch watch =
        store.watch(
            query,
            new WatchListener() {
              @Override
              public void onEvent(WatchEvent event) {
                stream.send(encodedEvents.of(event));
              }

              @Override
              public void onError(KvException error) {
                stream.close(statusOf(error));
              }
            });
    stream.feedFrom(watch);
    watch
        .started()
        .thenAccept(
            first ->
                stream.created(
                    EncodedResponse.of(
                        WatchResponse.newBuilder().setCreated(true).setRevision(first).build(),
                        first)));
  }

  /**
   * Answers the call with the store's result once it arrives. A client that goes away cancels the
   * store's work; any failure becomes a status with a code the client can act on, never UNKNOWN.
   */
  private static <S, T> void reply(
      Supplier<CompletableFuture<S>> call, Function<S, T> toResponse, StreamObserver<T> responses) {
    CompletableFuture<S> answer;
    try {
      answer = call.get();
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    if (!answer.isDone() && responses instanceof ServerCallStreamObserver<T> serverResponses) {
      CompletableFuture<S> pending = answer;
      serverResponses.setOnCancelHandler(() -> pending.cancel(false));
    }
    answer.whenComplete(
        (result, error) -> {
          T response = null;
          if (error == null) {
            try {
              response = toResponse.apply(result);
            } catch (RuntimeException e) {
              error = e;
            }
          }
          if (error == null) {
            responses.onNext(response);
            responses.onCompleted();
          } else {
            responses.onError(statusOf(error).asRuntimeException());
          }
        });
  }

  private static Status statusOf(Throwable error) {
    Status status = GrpcErrors.toStatus(error);
    if (status.getCode() == Status.Code.UNAUTHENTICATED) {
      // The store refused the server's own credentials (etcd's user): not the client's doing,
      // and the details are for the operator, whom the health check's log line tells.
      return Status.UNAVAILABLE.withDescription(
          "kv-server cannot sign in to its store; its log says why");
    }
    if (status.getCode() == Status.Code.INTERNAL) {
      logger.log(Level.WARNING, "request failed", GrpcErrors.unwrap(error));
    }
    if (status.getCode() == Status.Code.DATA_LOSS) {
      // The operator must hear of it: the client alone cannot restore the data.
      logger.warning(status.getDescription());
    }
    return status;
  }
}
