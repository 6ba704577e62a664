package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.kv.api.SnapshotChunk;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class SnapshotChunksTest {

  @Test
  @Timeout(30)
  void clientThatReadsNothing_failsTheStoresWrite_afterTheStall() {
    StalledCall call = new StalledCall();
    SnapshotChunks chunks = new SnapshotChunks(call, Duration.ofMillis(300));
    byte[] twoChunks = new byte[2 * SnapshotChunks.CHUNK_BYTES];

    long start = System.nanoTime();
    Throwable stalled = catchThrowable(() -> chunks.write(twoChunks, 0, twoChunks.length));
    chunks.fail(stalled, error -> Status.INTERNAL);

    assertThat(stalled)
        .isInstanceOf(IOException.class)
        .hasMessage("the client read nothing of the snapshot for 300ms");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(250));
    assertThat(call.sent).isEmpty();
    assertThat(Status.fromThrowable(call.error).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(Status.fromThrowable(call.error).getDescription())
        .isEqualTo("the client read nothing of the snapshot for 300ms");
  }

  @Test
  @Timeout(30)
  void clientThatCancelled_isToldNothing() {
    StalledCall call = new StalledCall();
    SnapshotChunks chunks = new SnapshotChunks(call, Duration.ofMinutes(2));
    call.cancel.run();
    byte[] twoChunks = new byte[2 * SnapshotChunks.CHUNK_BYTES];

    Throwable cancelled = catchThrowable(() -> chunks.write(twoChunks, 0, twoChunks.length));
    chunks.fail(cancelled, error -> Status.INTERNAL);

    assertThat(cancelled).isInstanceOf(IOException.class);
    assertThat(call.error).isNull();
  }

  /** A call whose client never takes a message. */
  private static final class StalledCall extends ServerCallStreamObserver<SnapshotChunk> {
    final List<SnapshotChunk> sent = new ArrayList<>();
    Throwable error;
    Runnable cancel;

    @Override
    public boolean isReady() {
      return false;
    }

    @Override
    public void onNext(SnapshotChunk chunk) {
      sent.add(chunk);
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable handler) {
      cancel = handler;
    }

    @Override
    public void setCompression(String compression) {}

    @Override
    public void setOnReadyHandler(Runnable handler) {}

    @Override
    public void disableAutoInboundFlowControl() {}

    @Override
    public void request(int count) {}

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void onError(Throwable error) {
      this.error = error;
    }

    @Override
    public void onCompleted() {}
  }
}
