package dev.kv.server;

import static dev.kv.server.KvServiceTest.getRequest;
import static dev.kv.server.KvServiceTest.setRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kv.api.KVGrpc;
import dev.kv.core.memory.MemoryStore;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
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

  @Test
  void truncatedFrame_answersAnErrorStatus_andTheServerKeepsServing() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      writeFrame(out, SETTINGS, 0, 0, new byte[0]);
      writeFrame(out, HEADERS, END_HEADERS, 1, grpcRequestHeaders("/kv.KV/Get"));
      // The length prefix promises a 100-byte message; the stream ends after 5 of them.
      byte[] truncated = HexFormat.of().parseHex("00000000640a03666f6f");
      writeFrame(out, DATA, END_STREAM, 1, truncated);
      out.flush();

      String grpcStatus = readGrpcStatus(socket, out);

      assertThat(grpcStatus).isNotNull().isNotIn("0", "2");
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

  private void assertStillServing() {
    assertThat(KVGrpc.newBlockingStub(channel).get(getRequest("foo")).getValue()).isEqualTo("bar");
  }

  private static final int DATA = 0x0;
  private static final int HEADERS = 0x1;
  private static final int RST_STREAM = 0x3;
  private static final int SETTINGS = 0x4;
  private static final int GOAWAY = 0x7;
  private static final int END_STREAM = 0x1;
  private static final int ACK = 0x1;
  private static final int END_HEADERS = 0x4;

  /** A header block of literal fields without indexing (RFC 7541 6.2.2): no table, no Huffman. */
  private static byte[] grpcRequestHeaders(String path) throws IOException {
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    String[][] headers = {
      {":method", "POST"},
      {":scheme", "http"},
      {":path", path},
      {":authority", "localhost"},
      {"content-type", "application/grpc"},
      {"te", "trailers"}
    };
    for (String[] header : headers) {
      block.write(0x00);
      for (String text : header) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        block.write(bytes.length);
        block.write(bytes);
      }
    }
    return block.toByteArray();
  }

  private static void writeFrame(OutputStream out, int type, int flags, int stream, byte[] payload)
      throws IOException {
    out.write(
        new byte[] {
          (byte) (payload.length >>> 16),
          (byte) (payload.length >>> 8),
          (byte) payload.length,
          (byte) type,
          (byte) flags,
          (byte) (stream >>> 24),
          (byte) (stream >>> 16),
          (byte) (stream >>> 8),
          (byte) stream
        });
    out.write(payload);
  }

  /** Reads frames until stream 1 ends, and returns its grpc-status, or null if it had none. */
  private static String readGrpcStatus(Socket socket, OutputStream out) throws Exception {
    DataInputStream in = new DataInputStream(socket.getInputStream());
    DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder();
    String status = null;
    while (true) {
      int length = (in.readUnsignedByte() << 16) | in.readUnsignedShort();
      int type = in.readUnsignedByte();
      int flags = in.readUnsignedByte();
      int stream = in.readInt() & 0x7fffffff;
      byte[] payload = in.readNBytes(length);
      if (type == SETTINGS && (flags & ACK) == 0) {
        writeFrame(out, SETTINGS, ACK, 0, new byte[0]);
        out.flush();
      } else if (type == HEADERS) {
        ByteBuf block = Unpooled.wrappedBuffer(payload);
        Http2Headers headers = decoder.decodeHeaders(stream, block);
        CharSequence grpcStatus = headers.get("grpc-status");
        if (stream == 1 && grpcStatus != null) {
          status = grpcStatus.toString();
        }
        if (stream == 1 && (flags & END_STREAM) != 0) {
          return status;
        }
      } else if ((type == RST_STREAM && stream == 1) || type == GOAWAY) {
        return status;
      }
    }
  }
}
