package dev.kv.core.etcd;

import static dev.kv.core.KvFailureAssert.assertThatFailureOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.ListQuery;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.StoreValues;
import dev.kv.core.config.HostPort;
import dev.kv.etcd.api.etcdserverpb.KVGrpc;
import dev.kv.etcd.api.etcdserverpb.MaintenanceGrpc;
import dev.kv.etcd.api.etcdserverpb.RangeRequest;
import dev.kv.etcd.api.etcdserverpb.RangeResponse;
import dev.kv.etcd.api.etcdserverpb.ResponseHeader;
import dev.kv.etcd.api.etcdserverpb.SnapshotRequest;
import dev.kv.etcd.api.etcdserverpb.SnapshotResponse;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Snapshots of etcd's database, restored by etcdctl into a new member. */
@Timeout(180)
class EtcdSnapshotTest {

  @RegisterExtension static final EtcdCluster ETCD = EtcdCluster.ofMembers(1);

  @TempDir Path directory;

  @Test
  void snapshot_whileWritersRun_isRestoredByEtcdctl_withTheKeysAtItsRevision() throws Exception {
    Map<String, String> before = new HashMap<>();
    Path file = directory.resolve("etcd.db");
    SnapshotInfo info;
    Map<String, String> atItsRevision;
    Map<String, String> after;
    try (KvStore store = EtcdStore.builder().endpoints(ETCD.endpoints()).build()) {
      String filler = "v".repeat(1000);
      for (int i = 0; i < 1500; i++) {
        before.put("before/" + i, filler + i);
        store.set("before/" + i, filler + i).get();
      }
      AtomicBoolean writing = new AtomicBoolean(true);
      Thread writer =
          new Thread(
              () -> {
                for (int i = 0; writing.get(); i++) {
                  store.set("during/" + i, "" + i).join();
                }
              });
      writer.start();
      try (OutputStream out = Files.newOutputStream(file)) {
        info = store.snapshot(out).get(60, TimeUnit.SECONDS);
      } finally {
        writing.set(false);
        writer.join();
      }
      atItsRevision = allKeys(store, ListQuery.prefix("").atRevision(info.revision()));
      after = allKeys(store, ListQuery.prefix(""));
    }

    assertThat(info.format()).isEqualTo(SnapshotInfo.ETCD);
    assertThat(info.bytes()).isEqualTo(Files.size(file)).isGreaterThan(1_500_000);
    assertThat(info.revision()).isGreaterThanOrEqualTo(before.size() + 1);
    try (EtcdCluster restored = EtcdCluster.ofMembers(1).restoredFrom(file).start();
        KvStore store = EtcdStore.builder().endpoints(restored.endpoints()).build()) {
      Map<String, String> keys = allKeys(store, ListQuery.prefix(""));
      assertThat(keys).containsAllEntriesOf(before).containsAllEntriesOf(atItsRevision);
      // Writes made while the snapshot was taken may be in it too, but no other keys.
      assertThat(after).containsAllEntriesOf(keys);
      long restoredRevision = store.status().get().revision();
      assertThat(restoredRevision).isGreaterThanOrEqualTo(info.revision());
      // The restored member keeps the revisions: it holds the source exactly as of its own.
      try (KvStore source = EtcdStore.builder().endpoints(ETCD.endpoints()).build()) {
        assertThat(keys)
            .isEqualTo(allKeys(source, ListQuery.prefix("").atRevision(restoredRevision)));
      }
    }
  }

  @Test
  void snapshot_withAuthentication_carriesTheToken_andARefusedUserFails() throws Exception {
    try (EtcdCluster secured =
            EtcdCluster.ofMembers(1).withAuth("root-secret", Duration.ofSeconds(60)).start();
        KvStore root =
            EtcdStore.builder().endpoints(secured.endpoints()).user("root", "root-secret").build();
        KvStore nobody = EtcdStore.builder().endpoints(secured.endpoints()).build()) {
      root.set("k", "v").get();
      ByteArrayOutputStream out = new ByteArrayOutputStream();

      SnapshotInfo info = root.snapshot(out).get(60, TimeUnit.SECONDS);

      assertThat(info.bytes()).isEqualTo(out.size()).isPositive();
      assertThatFailureOf(nobody.snapshot(new ByteArrayOutputStream()))
          .hasCode(KvException.Code.UNAUTHENTICATED);
    }
  }

  @Test
  void snapshot_damagedOnTheWay_failsWithDataLoss() throws Exception {
    byte[] database = new byte[100_000];
    byte[] checksum = MessageDigest.getInstance("SHA-256").digest(database);
    database[5000] ^= 1;
    try (FakeMember member =
            new FakeMember(
                answer -> {
                  answer.onNext(blob(database, 0, 60_000));
                  answer.onNext(blob(database, 60_000, 40_000));
                  answer.onNext(blob(checksum, 0, checksum.length));
                  answer.onCompleted();
                });
        KvStore store = EtcdStore.builder().endpoints(member.endpoints()).build()) {
      assertThatFailureOf(store.snapshot(new ByteArrayOutputStream()))
          .hasCode(KvException.Code.DATA_LOSS)
          .hasMessageContaining("checksum");
    }
  }

  @Test
  void snapshot_whole_isWrittenAsSent() throws Exception {
    byte[] database = new byte[100_000];
    database[7] = 42;
    byte[] checksum = MessageDigest.getInstance("SHA-256").digest(database);
    try (FakeMember member =
            new FakeMember(
                answer -> {
                  answer.onNext(blob(database, 0, 99_990));
                  answer.onNext(blob(database, 99_990, 10));
                  answer.onNext(blob(checksum, 0, 20));
                  answer.onNext(blob(checksum, 20, 12));
                  answer.onCompleted();
                });
        KvStore store = EtcdStore.builder().endpoints(member.endpoints()).build()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      SnapshotInfo info = store.snapshot(out).get(30, TimeUnit.SECONDS);

      assertThat(info).isEqualTo(new SnapshotInfo(SnapshotInfo.ETCD, 7, 100_032));
      assertThat(out.toByteArray())
          .startsWith(database)
          .endsWith(checksum)
          .hasSize(database.length + checksum.length);
    }
  }

  @Test
  void snapshot_memberKilledMidStream_failsUnavailable() throws Exception {
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch killed = new CountDownLatch(1);
    OutputStream waitsForTheKill =
        new OutputStream() {
          @Override
          public void write(int b) {
            throw new UnsupportedOperationException();
          }

          @Override
          public void write(byte[] bytes, int from, int length) throws IOException {
            writing.countDown();
            try {
              killed.await();
            } catch (InterruptedException e) {
              throw new InterruptedIOException();
            }
          }
        };
    try (EtcdCluster dying = EtcdCluster.ofMembers(1).start();
        KvStore store = EtcdStore.builder().endpoints(dying.endpoints()).build()) {
      // Far more than the HTTP/2 window, which the member may send ahead of what is written.
      List<CompletableFuture<Long>> writes = new ArrayList<>();
      for (int i = 0; i < 5000; i++) {
        writes.add(store.set("k" + i, "v".repeat(2000)));
      }
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get();
      var snapshot = store.snapshot(waitsForTheKill);
      assertThat(writing.await(30, TimeUnit.SECONDS)).isTrue();
      dying.kill(0);
      killed.countDown();

      assertThatFailureOf(snapshot).hasCode(KvException.Code.UNAVAILABLE);
    }
  }

  private static SnapshotResponse blob(byte[] bytes, int from, int length) {
    return SnapshotResponse.newBuilder().setBlob(ByteString.copyFrom(bytes, from, length)).build();
  }

  private static Map<String, String> allKeys(KvStore store, ListQuery query) {
    return StoreValues.of(store, query);
  }

  /** A member that answers Maintenance.Snapshot as a test says. */
  private static final class FakeMember implements AutoCloseable {
    private final Server server;

    FakeMember(Consumer<StreamObserver<SnapshotResponse>> snapshot) throws Exception {
      server =
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
              .addService(
                  new KVGrpc.KVImplBase() {
                    @Override
                    public void range(RangeRequest request, StreamObserver<RangeResponse> answer) {
                      answer.onNext(
                          RangeResponse.newBuilder()
                              .setHeader(ResponseHeader.newBuilder().setRevision(7))
                              .build());
                      answer.onCompleted();
                    }
                  })
              .addService(
                  new MaintenanceGrpc.MaintenanceImplBase() {
                    @Override
                    public void snapshot(
                        SnapshotRequest request, StreamObserver<SnapshotResponse> answer) {
                      snapshot.accept(answer);
                    }
                  })
              .build()
              .start();
    }

    EtcdEndpoints endpoints() {
      return new EtcdEndpoints(List.of(new HostPort("127.0.0.1", server.getPort())));
    }

    @Override
    public void close() throws InterruptedException {
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
