package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.kv.api.KVGrpc;
import dev.kv.api.SnapshotChunk;
import dev.kv.api.SnapshotRequest;
import dev.kv.core.KvStore;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.memory.MemoryStore;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** kv.KV/Snapshot over a store whose snapshot writes known bytes, as fast as it is let. */
@Timeout(60)
class SnapshotServiceTest {

  private static final int SNAPSHOT_BYTES = 16 << 20;

  private final AtomicLong written = new AtomicLong();
  private final CompletableFuture<SnapshotInfo> taken = new CompletableFuture<>();

  @Test
  void snapshot_sendsTheStoresBytesInChunks_thenWhatTheFileIs() throws Exception {
    try (LoopbackServer server = LoopbackServer.start(storeWritingKnownBytes())) {
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      List<SnapshotChunk> chunks = new ArrayList<>();
      KVGrpc.newBlockingStub(server.channel)
          .snapshot(SnapshotRequest.getDefaultInstance())
          .forEachRemaining(chunks::add);

      SnapshotChunk last = chunks.remove(chunks.size() - 1);
      for (SnapshotChunk chunk : chunks) {
        assertThat(chunk.getData().size()).isBetween(1, SnapshotChunks.CHUNK_BYTES);
        assertThat(chunk.getFormat()).isEmpty();
        chunk.getData().writeTo(received);
      }
      assertThat(received.toByteArray()).isEqualTo(knownBytes());
      assertThat(last.getData().isEmpty()).isTrue();
      assertThat(last.getFormat()).isEqualTo("etcd");
      assertThat(last.getRevision()).isEqualTo(42);
      assertThat(last.getSize()).isEqualTo(SNAPSHOT_BYTES);
    }
  }

  @Test
  void snapshot_clientNotReading_storeWaits_serverHoldsNoMoreThanAWindowAhead() throws Exception {
    try (LoopbackServer server = LoopbackServer.start(storeWritingKnownBytes());
        Client client = new Client(server)) {
      client.request(1);
      await().atMost(Duration.ofSeconds(30)).until(() -> client.received.get() == 1);
      Thread.sleep(2000);

      // The client's HTTP/2 window (1 MiB) and a few chunks, far from the whole 16 MiB.
      assertThat(written.get()).isLessThan(4 << 20);
      assertThat(taken).isNotDone();

      client.request(Integer.MAX_VALUE);
      assertThat(taken.get(30, TimeUnit.SECONDS).bytes()).isEqualTo(SNAPSHOT_BYTES);
    }
  }

  @Test
  void snapshot_cancelledByTheClient_failsTheStoresWrites_soItStops() throws Exception {
    try (LoopbackServer server = LoopbackServer.start(storeWritingKnownBytes());
        Client client = new Client(server)) {
      client.request(1);
      await().atMost(Duration.ofSeconds(30)).until(() -> client.received.get() == 1);
      client.call.get().cancel("the user pressed Ctrl-C", null);

      assertThat(taken)
          .failsWithin(Duration.ofSeconds(30))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .withCauseInstanceOf(IOException.class)
          .withMessageContaining("cancelled");
      assertThat(written.get()).isLessThan(SNAPSHOT_BYTES);
    }
  }

  @Test
  void snapshot_ofTheMemoryStore_answersFailedPrecondition_withItsMessage() throws Exception {
    try (LoopbackServer server = LoopbackServer.start(new MemoryStore())) {
      Iterator<SnapshotChunk> chunks =
          KVGrpc.newBlockingStub(server.channel).snapshot(SnapshotRequest.getDefaultInstance());

      assertThatThrownBy(chunks::next)
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                assertThat(e.getStatus().getDescription()).contains("takes no snapshot");
              });
    }
  }

  @Test
  void snapshot_beyondTwoAtOnce_isRefused_asResourceExhausted() throws Exception {
    try (LoopbackServer server = LoopbackServer.start(storeHoldingSnapshots());
        Client first = new Client(server);
        Client second = new Client(server);
        Client third = new Client(server)) {
      List<Client> clients = List.of(first, second, third);
      // The calls may reach the server in any order: whichever comes last is refused.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> clients.stream().anyMatch(client -> client.failure.get() != null));
      Thread.sleep(500);

      List<StatusRuntimeException> failures =
          clients.stream().map(client -> client.failure.get()).filter(f -> f != null).toList();
      assertThat(failures).hasSize(1);
      assertThat(failures.get(0).getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(failures.get(0).getStatus().getDescription()).contains("snapshots");
    }
  }

  private static byte[] knownBytes() {
    byte[] bytes = new byte[SNAPSHOT_BYTES];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i * 31 + (i >> 12));
    }
    return bytes;
  }

  /** A store whose snapshot writes {@link #knownBytes} in 64 KiB writes, on a thread of its own. */
  private KvStore storeWritingKnownBytes() {
    KvStore store = answering();
    when(store.snapshot(any()))
        .thenAnswer(
            invocation -> {
              OutputStream out = invocation.getArgument(0);
              byte[] bytes = knownBytes();
              new Thread(
                      () -> {
                        try {
                          for (int from = 0; from < bytes.length; from += 64 << 10) {
                            out.write(bytes, from, 64 << 10);
                            written.addAndGet(64 << 10);
                          }
                          out.flush();
                          taken.complete(new SnapshotInfo(SnapshotInfo.ETCD, 42, bytes.length));
                        } catch (IOException e) {
                          taken.completeExceptionally(e);
                        }
                      })
                  .start();
              return taken;
            });
    return store;
  }

  /** A store whose snapshots never end. */
  private static KvStore storeHoldingSnapshots() {
    KvStore store = answering();
    when(store.snapshot(any())).thenAnswer(invocation -> new CompletableFuture<>());
    return store;
  }

  private static KvStore answering() {
    KvStore store = mock(KvStore.class);
    when(store.checkHealth()).thenReturn(CompletableFuture.completedFuture(null));
    return store;
  }

  /** A Snapshot call that reads only the messages it asks for. */
  private static final class Client
      implements ClientResponseObserver<SnapshotRequest, SnapshotChunk>, AutoCloseable {
    final AtomicReference<ClientCallStreamObserver<SnapshotRequest>> call = new AtomicReference<>();
    final AtomicLong received = new AtomicLong();
    final AtomicReference<StatusRuntimeException> failure = new AtomicReference<>();
    private final ManagedChannel channel;

    Client(LoopbackServer server) {
      channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.server.port())
              .usePlaintext()
              .flowControlWindow(1 << 20)
              .build();
      KVGrpc.newStub(channel).snapshot(SnapshotRequest.getDefaultInstance(), this);
    }

    void request(int messages) {
      call.get().request(messages);
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<SnapshotRequest> call) {
      this.call.set(call);
      call.disableAutoRequestWithInitial(0);
    }

    @Override
    public void onNext(SnapshotChunk chunk) {
      received.incrementAndGet();
    }

    @Override
    public void onError(Throwable error) {
      failure.set((StatusRuntimeException) error);
    }

    @Override
    public void onCompleted() {}

    @Override
    public void close() throws InterruptedException {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
