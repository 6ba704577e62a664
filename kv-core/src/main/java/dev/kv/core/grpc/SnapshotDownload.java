package dev.kv.core.grpc;

import dev.kv.core.KvException;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.local.Threads;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * A snapshot received as a server stream and written to an {@link OutputStream}, on a thread of its
 * own: the network threads never wait for {@code out}. Each message is asked for only once the one
 * before is written, so a slow {@code out} slows the sender down rather than fill memory.
 *
 * <p>The snapshot fails, and the call is cancelled, when writing fails; a stream that ends with an
 * error fails it too, as one that ends before its {@link Reader#finish} is satisfied: it is never
 * resumed, which would splice two files into one.
 */
public final class SnapshotDownload<ReqT, RespT> implements ClientResponseObserver<ReqT, RespT> {

  /** What the messages of one kind of stream mean. */
  public interface Reader<RespT> {
    /** Writes what {@code message} carries to {@code out}. */
    void write(RespT message, OutputStream out) throws IOException;

    /**
     * What the snapshot holds, once the stream ended without error.
     *
     * @throws KvException when what was received is not a whole snapshot
     */
    SnapshotInfo finish();
  }

  private final OutputStream out;
  private final Reader<RespT> reader;
  private final StoreConnection connection;
  private final ExecutorService writer;
  private final CompletableFuture<SnapshotInfo> result = new CompletableFuture<>();
  private ClientCallStreamObserver<ReqT> call;

  private SnapshotDownload(
      OutputStream out, Reader<RespT> reader, StoreConnection connection, String threadName) {
    this.out = out;
    this.reader = reader;
    this.connection = connection;
    this.writer = Executors.newSingleThreadExecutor(Threads.daemon(threadName));
    result.whenComplete((info, error) -> writer.shutdown());
  }

  /**
   * Sends {@code request} on {@code stub}, without a deadline (a snapshot takes as long as it
   * takes), and writes what the stream carries to {@code out} on a thread named {@code threadName}.
   */
  public static <S extends AbstractStub<S>, ReqT, RespT> CompletableFuture<SnapshotInfo> start(
      S stub,
      StoreConnection.Rpc<S, ReqT, RespT> rpc,
      ReqT request,
      OutputStream out,
      Reader<RespT> reader,
      StoreConnection connection,
      String threadName) {
    SnapshotDownload<ReqT, RespT> download =
        new SnapshotDownload<>(out, reader, connection, threadName);
    try {
      rpc.send(stub, request, download);
    } catch (RuntimeException e) {
      download.fail(e);
    }
    return download.result;
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<ReqT> call) {
    this.call = call;
    call.disableAutoRequestWithInitial(1);
  }

  /**
   * Runs {@code task} on the writer's thread, after what came before; not once the end is known.
   */
  private void later(Runnable task) {
    try {
      writer.execute(task);
    } catch (RejectedExecutionException e) {
      // The snapshot failed already (a write did, and cancelled the call): nothing is left to do.
    }
  }

  @Override
  public void onNext(RespT message) {
    later(
        () -> {
          if (result.isDone()) {
            return;
          }
          try {
            reader.write(message, out);
          } catch (IOException | RuntimeException e) {
            fail(e);
            call.cancel("the snapshot could not be written", e);
            return;
          }
          call.request(1);
        });
  }

  @Override
  public void onError(Throwable error) {
    later(
        () ->
            fail(
                error instanceof StatusRuntimeException status
                    ? connection.failure(status)
                    : error));
  }

  @Override
  public void onCompleted() {
    later(
        () -> {
          if (result.isDone()) {
            return;
          }
          try {
            out.flush();
            result.complete(reader.finish());
          } catch (IOException | RuntimeException e) {
            fail(e);
          }
        });
  }

  private void fail(Throwable error) {
    result.completeExceptionally(error);
  }
}
