package dev.kv.server;

import static dev.kv.server.FuzzedMessages.concat;
import static dev.kv.server.KvServiceTest.getRequest;
import static dev.kv.server.KvServiceTest.setRequest;
import static dev.kv.server.RawHttp2Client.grpcFrame;
import static dev.kv.server.RawHttp2Client.grpcHeaders;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kv.api.KVGrpc;
import dev.kv.core.config.HostPort;
import dev.kv.core.memory.MemoryStore;
import dev.kv.server.RawHttp2Client.Exchange;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Requests no well-behaved client sends get an error status; everyone else is still served. */
@Timeout(60)
class MalformedRequestTest {

  private LoopbackServer loopback;
  private KvServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    loopback = LoopbackServer.start(new MemoryStore());
    server = loopback.server;
    channel = loopback.channel;
    KVGrpc.newBlockingStub(channel).set(setRequest("foo", "bar"));
  }

  @AfterEach
  void stop() throws Exception {
    loopback.close();
  }

  @Test
  void garbageMessage_answersAnErrorStatus_andTheServerKeepsServing() {
    MethodDescriptor<byte[], byte[]> get = LoopbackServer.rawMethod("kv.KV/Get");
    byte[] garbage = HexFormat.of().parseHex("ffffffffffffffffff01");

    assertThatThrownBy(
            () -> ClientCalls.blockingUnaryCall(channel, get, CallOptions.DEFAULT, garbage))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription())
                  .isEqualTo("malformed request: not a valid kv.KV/Get request message");
            });

    assertStillServing();
  }

  /**
   * A stream that ends before the message its length prefix promises, or inside the prefix: a
   * malformed request, whichever method it calls, and on a server whose calls run on a pool too.
   */
  @Test
  void requestCutOffMidMessage_isInvalidArgument_andTheServerKeepsServing() throws Exception {
    byte[] get = getRequest("foo").toByteArray();
    Map<String, byte[]> bodies = new LinkedHashMap<>();
    bodies.put("a 100-byte message cut off after 5", grpcFrame(0, 100, Arrays.copyOf(get, 5)));
    bodies.put("3 bytes of the prefix", new byte[] {0, 0, 0});
    bodies.put("a message, then half a prefix", concat(grpcFrame(get), new byte[] {0, 0}));
    try (LoopbackServer pooled =
            LoopbackServer.start(
                KvServer.builder(new HostPort("127.0.0.1", 0), new MemoryStore())
                    .onNetworkThreads(false));
        RawHttp2Client direct = new RawHttp2Client(address(server));
        RawHttp2Client onPool = new RawHttp2Client(address(pooled.server))) {
      for (RawHttp2Client client : List.of(direct, onPool)) {
        for (String method : List.of("Get", "Watch")) {
          for (Map.Entry<String, byte[]> body : bodies.entrySet()) {
            Exchange answer =
                client
                    .send(grpcHeaders("/kv.KV/" + method), List.of(body.getValue()), true)
                    .await(Duration.ofSeconds(30));

            String input = method + " with " + body.getKey() + ": " + answer;
            assertThat(answer.grpcStatus()).as(input).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(answer.grpcMessage())
                .as(input)
                .isEqualTo(
                    "malformed request: it ended in the middle of a kv.KV/"
                        + method
                        + " request message");
          }
        }
      }
    }

    assertStillServing();
  }

  @Test
  void notHttp2AtAll_isRefused_andTheServerKeepsServing() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5});
      socket.getOutputStream().flush();
      // The server drops the connection rather than wait for sense.
      assertThat(socket.getInputStream().readAllBytes().length).isLessThan(1024);
    }

    assertStillServing();
  }

  private static InetSocketAddress address(KvServer server) {
    return new InetSocketAddress("127.0.0.1", server.port());
  }

  private void assertStillServing() {
    assertThat(KVGrpc.newBlockingStub(channel).get(getRequest("foo")).getValue()).isEqualTo("bar");
  }
}
