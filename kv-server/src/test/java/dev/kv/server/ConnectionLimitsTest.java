package dev.kv.server;

import static dev.kv.server.KvServiceTest.getRequest;
import static dev.kv.server.KvServiceTest.setRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kv.api.KVGrpc;
import dev.kv.core.config.HostPort;
import dev.kv.core.memory.MemoryStore;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The limits on connections, with small values: how many the server holds, and how long one may
 * stay without a call. {@link ConnectionFloodTest} floods a real kv-server process.
 */
@Timeout(60)
class ConnectionLimitsTest {

  @AutoClose private final Closer closer = new Closer();
  private final MemoryStore store = closer.add(new MemoryStore());
  private KvServer server;

  @Test
  void connectionsBeyondTheCap_areClosedAtOnce_andAWarningSaysWhy() throws Exception {
    start(2, Duration.ofMinutes(1));
    ManagedChannel first = connect();
    ManagedChannel second = connect();
    assertThat(set(first)).isTrue();
    assertThat(set(second)).isTrue();

    try (LoggedRecords logged = LoggedRecords.of(ConnectionLimits.class);
        Socket third = open()) {
      assertThat(third.getInputStream().read()).as("what the server sent first").isEqualTo(-1);
      assertThat(logged.records())
          .extracting(LogRecord::getMessage)
          .containsExactly(
              "kv-server holds its limit of 2 connections (--max-connections), and closes new"
                  + " ones at once: 1 so far");
    }
    assertThat(set(first)).isTrue();
    assertThat(set(second)).isTrue();

    // Once one goes, another may come.
    first.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    ManagedChannel next = connect();
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> set(next));
  }

  @Test
  void connectionsWithoutACall_areClosedAtTheFirstRequestDeadline_whileThoseThatCallStay()
      throws Exception {
    Duration deadline = Duration.ofMillis(500);
    start(10, deadline);
    ManagedChannel calling = connect();
    assertThat(set(calling)).isTrue();

    long opened = System.nanoTime();
    try (Socket silent = open();
        Socket preface = open()) {
      preface.getOutputStream().write(ConnectionFlood.PREFACE);

      awaitClosedByServer(silent);
      awaitClosedByServer(preface);
      assertThat(Duration.ofNanos(System.nanoTime() - opened))
          .isGreaterThanOrEqualTo(deadline.minusMillis(100));
    }
    Thread.sleep(deadline.multipliedBy(2).toMillis());
    assertThat(calling.getState(false)).isEqualTo(ConnectivityState.READY);
    assertThat(
            KVGrpc.newBlockingStub(calling)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .get(getRequest("k"))
                .getValue())
        .isEqualTo("v");
  }

  private void start(int maxConnections, Duration firstRequestTimeout) throws IOException {
    Limits d = Limits.DEFAULTS;
    Limits limits =
        new Limits(
            d.maxKeyBytes(),
            d.maxValueBytes(),
            d.maxMessageBytes(),
            d.maxStreamsPerConnection(),
            d.maxCalls(),
            d.maxWatches(),
            d.keepAliveMinTime(),
            d.maxConnectionIdle(),
            d.maxConnectionAge(),
            d.defaultDeadline(),
            maxConnections,
            firstRequestTimeout,
            d.maxBytesInProgress(),
            d.maxUnauthenticatedCalls(),
            d.maxCallDuration(),
            d.maxSharePerAddress(),
            d.maxSharePerConnection());
    server = KvServer.builder(new HostPort("127.0.0.1", 0), store).limits(limits).build().start();
    closer.add(() -> server.stop(Duration.ZERO));
  }

  private ManagedChannel connect() {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    closer.add(channel::shutdownNow);
    return channel;
  }

  private Socket open() throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", server.port()));
    // A bound on every read: a server that never closes fails the test rather than hang it.
    socket.setSoTimeout(30_000);
    return socket;
  }

  private static boolean set(ManagedChannel channel) {
    return KVGrpc.newBlockingStub(channel)
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .set(setRequest("k", "v"))
        .getOk();
  }

  /** Reads what the server sends (its SETTINGS, for one) until it closes the connection. */
  private static void awaitClosedByServer(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    while (in.read() != -1) {
      // Not what the test is about.
    }
  }
}
