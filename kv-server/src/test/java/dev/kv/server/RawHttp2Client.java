package dev.kv.server;

import io.grpc.Status;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2EventAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A plaintext HTTP/2 client, with prior knowledge, that sends whatever a test tells it to: any
 * headers, then any DATA bytes, with or without END_STREAM, and records what comes back on the
 * stream. Requests share a connection until the server closes it or sends GOAWAY; the next request
 * then opens another.
 */
final class RawHttp2Client implements AutoCloseable {

  private final InetSocketAddress server;
  private final InetSocketAddress local;
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private Connection connection;
  private int connectionsOpened;

  RawHttp2Client(InetSocketAddress server) {
    this(server, new InetSocketAddress(0));
  }

  /**
   * A client whose connections come from {@code local}, such as 127.0.0.2, to be another client
   * address than the tests' other clients on loopback.
   */
  RawHttp2Client(InetSocketAddress server, InetSocketAddress local) {
    this.server = server;
    this.local = local;
  }

  /** The headers of a well-formed gRPC call to {@code path}; tests change or remove some. */
  static Http2Headers grpcHeaders(String path) {
    // Unvalidated, so that a test may send names and values no client should.
    return new DefaultHttp2Headers(false)
        .method("POST")
        .scheme("http")
        .authority("localhost")
        .path(path)
        .set("content-type", "application/grpc")
        .set("te", "trailers");
  }

  /** {@code message} as one gRPC length-prefixed message, uncompressed. */
  static byte[] grpcFrame(byte[] message) {
    return grpcFrame(0, message.length, message);
  }

  /** A gRPC message prefix with any flag byte and any declared length, then {@code body}. */
  static byte[] grpcFrame(int flag, int declaredLength, byte[] body) {
    return ByteBuffer.allocate(5 + body.length)
        .put((byte) flag)
        .putInt(declaredLength)
        .put(body)
        .array();
  }

  /** Sends one request on a new stream: {@code headers}, then each of {@code data} as DATA. */
  synchronized Exchange send(Http2Headers headers, List<byte[]> data, boolean endStream)
      throws InterruptedException {
    if (connection == null || !connection.usable()) {
      connection = new Connection();
      connectionsOpened++;
    }
    return connection.send(headers, data, endStream);
  }

  /**
   * Sends {@code count} PING frames at once on the current connection (opened if needed), and
   * returns what the server's GOAWAY says when it sends one: its error code and debug text.
   */
  synchronized CompletableFuture<String> ping(int count) throws InterruptedException {
    if (connection == null || !connection.usable()) {
      connection = new Connection();
      connectionsOpened++;
    }
    Connection pinged = connection;
    pinged
        .channel
        .eventLoop()
        .execute(
            () -> {
              for (int i = 0; i < count; i++) {
                pinged
                    .handler
                    .encoder()
                    .writePing(pinged.context, false, i, pinged.context.newPromise());
              }
              pinged.context.flush();
            });
    return pinged.goAway;
  }

  /** Makes the next request open a connection of its own; the current one is closed. */
  synchronized void newConnection() {
    if (connection != null) {
      connection.channel.close().syncUninterruptibly();
      connection = null;
    }
  }

  synchronized int connectionsOpened() {
    return connectionsOpened;
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** One connection and the requests in flight on it. */
  private final class Connection extends Http2EventAdapter {
    private final Map<Integer, Exchange> exchanges = new ConcurrentHashMap<>();
    private final Http2ConnectionHandler handler;
    private final Channel channel;
    private final ChannelHandlerContext context;
    private volatile boolean goingAway;
    private final CompletableFuture<String> goAway = new CompletableFuture<>();

    Connection() throws InterruptedException {
      DefaultHttp2Connection http2 = new DefaultHttp2Connection(false);
      http2.addListener(this);
      handler =
          new Http2ConnectionHandlerBuilder()
              .connection(http2)
              .frameListener(this)
              // Never refuse to send what a test asks for.
              .encoderEnforceMaxConcurrentStreams(false)
              .encoderIgnoreMaxHeaderListSize(true)
              .build();
      channel =
          new Bootstrap()
              .group(group)
              .channel(NioSocketChannel.class)
              .option(ChannelOption.TCP_NODELAY, true)
              .handler(handler)
              .connect(server, local)
              .sync()
              .channel();
      context = channel.pipeline().context(handler);
      channel
          .closeFuture()
          .addListener(
              closed -> exchanges.values().forEach(exchange -> exchange.end(true, exchanges)));
    }

    boolean usable() {
      return channel.isActive() && !goingAway;
    }

    Exchange send(Http2Headers headers, List<byte[]> data, boolean endStream) {
      Exchange exchange = new Exchange(this);
      channel.eventLoop().execute(() -> write(exchange, headers, data, endStream));
      return exchange;
    }

    /** On the connection's thread, as the encoder requires. */
    private void write(Exchange exchange, Http2Headers headers, List<byte[]> data, boolean end) {
      if (!channel.isActive()) {
        exchange.end(true, exchanges);
        return;
      }
      int id = handler.connection().local().incrementAndGetNextStreamId();
      exchange.streamId = id;
      exchanges.put(id, exchange);
      Http2ConnectionEncoder encoder = handler.encoder();
      encoder
          .writeHeaders(context, id, headers, 0, end && data.isEmpty(), context.newPromise())
          .addListener(
              written -> {
                if (!written.isSuccess()) {
                  exchange.writeFailure = written.cause();
                  exchange.end(!channel.isActive(), exchanges);
                }
              });
      for (int i = 0; i < data.size(); i++) {
        boolean last = end && i == data.size() - 1;
        ByteBuf bytes = Unpooled.wrappedBuffer(data.get(i));
        encoder.writeData(context, id, bytes, 0, last, context.newPromise());
      }
      // Through the pipeline, not from the handler's context: the handler itself must see the
      // flush to write the DATA it holds for flow control.
      channel.flush();
    }

    /** More DATA on a stream already sent, as a client that sends its message slowly. */
    void sendData(Exchange exchange, byte[] data, boolean end) {
      channel
          .eventLoop()
          .execute(
              () -> {
                if (channel.isActive() && !exchange.ended()) {
                  handler
                      .encoder()
                      .writeData(
                          context,
                          exchange.streamId,
                          Unpooled.wrappedBuffer(data),
                          0,
                          end,
                          context.newPromise());
                  channel.flush();
                }
              });
    }

    void reset(Exchange exchange) {
      channel
          .eventLoop()
          .execute(
              () -> {
                handler.resetStream(
                    context, exchange.streamId, Http2Error.CANCEL.code(), context.newPromise());
                channel.flush();
              });
    }

    @Override
    public void onHeadersRead(
        ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding, boolean end) {
      Exchange exchange = exchanges.get(streamId);
      if (exchange != null) {
        if (exchange.headers == null) {
          exchange.headers = headers;
        } else {
          exchange.trailers = headers;
        }
        if (end) {
          exchange.end(false, exchanges);
        }
      }
    }

    @Override
    public void onHeadersRead(
        ChannelHandlerContext ctx,
        int streamId,
        Http2Headers headers,
        int streamDependency,
        short weight,
        boolean exclusive,
        int padding,
        boolean end) {
      onHeadersRead(ctx, streamId, headers, padding, end);
    }

    @Override
    public int onDataRead(
        ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean end) {
      int length = data.readableBytes();
      Exchange exchange = exchanges.get(streamId);
      if (exchange != null) {
        exchange.data.writeBytes(ByteBufUtil.getBytes(data));
        exchange.firstData.complete(null);
        if (end) {
          exchange.end(false, exchanges);
        }
      }
      // All of it is consumed at once: the flow-control window is handed back.
      return length + padding;
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
      Exchange exchange = exchanges.get(streamId);
      if (exchange != null) {
        exchange.resetCode = errorCode;
      }
    }

    @Override
    public void onGoAwayReceived(int lastStreamId, long errorCode, ByteBuf debugData) {
      goingAway = true;
      goAway.complete(
          Http2Error.valueOf(errorCode) + " " + debugData.toString(StandardCharsets.UTF_8));
      exchanges.values().forEach(exchange -> exchange.goAwayCode = errorCode);
    }

    @Override
    public void onStreamClosed(Http2Stream stream) {
      Exchange exchange = exchanges.get(stream.id());
      if (exchange != null) {
        exchange.end(!channel.isActive(), exchanges);
      }
    }
  }

  /**
   * One request and what came back: response headers, DATA, trailers, RST_STREAM, GOAWAY or the
   * connection closing. Fields are written on the connection's thread and read once {@link #await}
   * returns.
   */
  static final class Exchange {
    private final Connection connection;
    private final CompletableFuture<Exchange> ended = new CompletableFuture<>();
    private final CompletableFuture<Void> firstData = new CompletableFuture<>();
    private volatile int streamId;
    private volatile Http2Headers headers;
    private volatile Http2Headers trailers;
    private final ByteArrayOutputStream data = new ByteArrayOutputStream();
    private volatile Long resetCode;
    private volatile Long goAwayCode;
    private volatile boolean connectionClosed;
    private volatile Throwable writeFailure;
    private volatile boolean cancelled;

    private Exchange(Connection connection) {
      this.connection = connection;
    }

    private void end(boolean closed, Map<Integer, Exchange> exchanges) {
      connectionClosed |= closed;
      exchanges.remove(streamId, this);
      ended.complete(this);
    }

    /** Waits for the server to end the stream, or for the connection to end. */
    Exchange await(Duration timeout) throws Exception {
      return await(ended, timeout);
    }

    /** Waits for the stream to end or for its first DATA, whichever comes first. */
    Exchange awaitEndOrData(Duration timeout) throws Exception {
      return await(CompletableFuture.anyOf(ended, firstData), timeout);
    }

    private Exchange await(CompletableFuture<?> event, Duration timeout) throws Exception {
      try {
        event.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        return this;
      } catch (TimeoutException e) {
        throw new AssertionError("no answer on stream " + streamId + " within " + timeout, e);
      }
    }

    boolean ended() {
      return ended.isDone();
    }

    /** Sends {@code data} as one more DATA frame on this stream, ending it if {@code end}. */
    void sendData(byte[] data, boolean end) {
      connection.sendData(this, data, end);
    }

    /** Ends the stream from this side with RST_STREAM(CANCEL). */
    void cancel() {
      cancelled = true;
      connection.reset(this);
    }

    String httpStatus() {
      return headers == null || headers.status() == null ? null : headers.status().toString();
    }

    /** The gRPC status, from the trailers or from a trailers-only answer; null without one. */
    Status.Code grpcStatus() {
      CharSequence code = header("grpc-status");
      return code == null
          ? null
          : Status.fromCodeValue(Integer.parseInt(code.toString())).getCode();
    }

    /** The status message as sent: percent-encoded where it is not printable ASCII. */
    String grpcMessage() {
      CharSequence message = header("grpc-message");
      return message == null ? null : message.toString();
    }

    private CharSequence header(String name) {
      Http2Headers last = trailers != null ? trailers : headers;
      return last == null ? null : last.get(name);
    }

    byte[] data() {
      return data.toByteArray();
    }

    /** What the server answered, in a few words: the status, or how the stream ended without. */
    String outcome() {
      String http =
          httpStatus() == null || "200".equals(httpStatus()) ? "" : "HTTP " + httpStatus();
      return http.isEmpty() ? ending() : http + " " + ending();
    }

    private String ending() {
      if (grpcStatus() != null) {
        return grpcStatus().name();
      }
      if (cancelled) {
        return "reset by the client";
      }
      if (resetCode != null) {
        return "RST_STREAM " + errorName(resetCode);
      }
      if (goAwayCode != null) {
        return "GOAWAY " + errorName(goAwayCode);
      }
      if (connectionClosed) {
        return "connection closed";
      }
      return writeFailure != null ? "not sent: " + writeFailure : "no status";
    }

    private static String errorName(long code) {
      Http2Error error = Http2Error.valueOf(code);
      return error == null ? "error " + code : error.name();
    }

    @Override
    public String toString() {
      return outcome()
          + (grpcMessage() == null ? "" : " \"" + grpcMessage() + "\"")
          + " (stream "
          + streamId
          + ")";
    }
  }
}
