package dev.kv.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A process that opens many connections to a server and holds them, as an attacker would. What each
 * connection sends, once, is its mode: {@code silent}, nothing; {@code preface}, the HTTP/2 client
 * connection preface (the 24-byte magic and an empty SETTINGS frame); {@code partial}, the preface
 * and most of a HEADERS frame of the largest size a server must accept (16 KiB), which the server
 * holds until the rest comes. It never closes a connection itself; it notes when the server closes
 * each one, and how long after it opened.
 *
 * <p>Arguments: {@code HOST PORT COUNT MODE LIFETIME_SECONDS}. It prints {@code connected N of
 * COUNT, F failed} once every attempt has an answer, then {@code closed by the server: ...} with
 * the ages of the connections when closed, once the server has closed them all or its lifetime is
 * up, and exits. A test runs several, so that no process holds more sockets than its limit.
 */
final class ConnectionFlood {

  /** The client connection preface of RFC 9113 section 3.4: the magic, then SETTINGS, empty. */
  static final byte[] PREFACE =
      concat(
          "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
          frameHeader(0, 4, 0));

  /** SETTINGS_MAX_FRAME_SIZE's initial value: the largest frame a server must take. */
  private static final int MAX_FRAME = 16 << 10;

  /** Connections being set up at once: within the server's accept backlog. */
  private static final int CONNECTING_AT_ONCE = 256;

  /**
   * How long a connection may take to be set up. A server that stops accepting lets its backlog
   * fill, and the kernel then drops new connections' packets: they would take minutes to fail.
   */
  private static final long CONNECT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

  public static void main(String[] args) throws IOException {
    InetSocketAddress server = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
    int count = Integer.parseInt(args[2]);
    byte[] greeting =
        switch (args[3]) {
          case "silent" -> new byte[0];
          case "preface" -> PREFACE;
          case "partial" ->
              concat(PREFACE, frameHeader(MAX_FRAME, 1, 1), new byte[MAX_FRAME - 1024]);
          default -> throw new IllegalArgumentException("unknown mode " + args[3]);
        };
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[4]));
    new ConnectionFlood(server, count, greeting).run(end);
  }

  private final InetSocketAddress server;
  private final int count;
  private final byte[] greeting;
  private final List<Long> closedAgesMillis = new ArrayList<>();
  private final ByteBuffer discard = ByteBuffer.allocate(16 << 10);
  private final ArrayDeque<SelectionKey> connectingOldestFirst = new ArrayDeque<>();
  private int attempted;
  private int connecting;
  private int open;
  private int failed;
  private String firstFailure;

  private ConnectionFlood(InetSocketAddress server, int count, byte[] greeting) {
    this.server = server;
    this.count = count;
    this.greeting = greeting;
  }

  private void run(long end) throws IOException {
    try (Selector selector = Selector.open()) {
      boolean connected = false;
      while (System.nanoTime() < end) {
        while (attempted < count && connecting < CONNECTING_AT_ONCE) {
          connect(selector);
        }
        if (!connected && attempted == count && connecting == 0) {
          reportConnected();
          connected = true;
        }
        if (connected && open == 0) {
          break;
        }
        selector.select(100);
        for (SelectionKey key : selector.selectedKeys()) {
          handle(key);
        }
        selector.selectedKeys().clear();
        giveUpSlowConnects();
      }
      if (!connected) {
        reportConnected();
      }
      reportClosed();
    }
  }

  private void reportConnected() {
    int unanswered = count - attempted + connecting;
    System.out.printf(
        "connected %d of %d, %d failed%s%s%n",
        attempted - connecting - failed,
        count,
        failed,
        firstFailure == null ? "" : " (" + firstFailure + ")",
        unanswered == 0 ? "" : ", " + unanswered + " not tried or unanswered at the end");
  }

  private void connect(Selector selector) throws IOException {
    attempted++;
    SocketChannel channel = SocketChannel.open();
    channel.configureBlocking(false);
    try {
      if (channel.connect(server)) {
        opened(channel.register(selector, 0, new Held()), channel);
      } else {
        connecting++;
        connectingOldestFirst.add(channel.register(selector, SelectionKey.OP_CONNECT, new Held()));
      }
    } catch (IOException e) {
      failed(channel, e);
    }
  }

  private void giveUpSlowConnects() {
    long now = System.nanoTime();
    for (SelectionKey key = connectingOldestFirst.peek();
        key != null;
        key = connectingOldestFirst.peek()) {
      Held held = (Held) key.attachment();
      if (held.openedAt != 0 || !key.isValid()) {
        connectingOldestFirst.poll(); // connected, or failed already
      } else if (now - held.connectingSince > CONNECT_TIMEOUT_NANOS) {
        connectingOldestFirst.poll();
        connecting--;
        key.cancel();
        failed((SocketChannel) key.channel(), new IOException("connect timed out"));
      } else {
        return;
      }
    }
  }

  private void handle(SelectionKey key) {
    SocketChannel channel = (SocketChannel) key.channel();
    if (key.isValid() && key.isConnectable()) {
      connecting--;
      try {
        channel.finishConnect();
      } catch (IOException e) {
        key.cancel();
        failed(channel, e);
        return;
      }
      opened(key, channel);
      return;
    }
    Held held = (Held) key.attachment();
    if (key.isValid() && key.isWritable()) {
      try {
        channel.write(held.unsent);
        if (!held.unsent.hasRemaining()) {
          key.interestOps(SelectionKey.OP_READ);
        }
      } catch (IOException e) {
        closedByServer(key, held);
        return;
      }
    }
    if (key.isValid() && key.isReadable()) {
      try {
        int read;
        do {
          discard.clear();
          read = channel.read(discard);
        } while (read > 0);
        if (read == 0) {
          return;
        }
      } catch (IOException e) {
        // Reset by the server: closed all the same.
      }
      closedByServer(key, held);
    }
  }

  private void opened(SelectionKey key, SocketChannel channel) {
    Held held = (Held) key.attachment();
    held.openedAt = System.nanoTime();
    open++;
    held.unsent = ByteBuffer.wrap(greeting);
    try {
      channel.write(held.unsent);
      key.interestOps(
          held.unsent.hasRemaining()
              ? SelectionKey.OP_READ | SelectionKey.OP_WRITE
              : SelectionKey.OP_READ);
    } catch (IOException e) {
      closedByServer(key, held);
    }
  }

  private void closedByServer(SelectionKey key, Held held) {
    closedAgesMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - held.openedAt));
    open--;
    key.cancel();
    closeQuietly((SocketChannel) key.channel());
  }

  private void failed(SocketChannel channel, IOException e) {
    failed++;
    if (firstFailure == null) {
      firstFailure = e.toString();
    }
    closeQuietly(channel);
  }

  /** The ages of the connections when the server closed them, in order, and those still open. */
  private void reportClosed() {
    Collections.sort(closedAgesMillis);
    StringBuilder ages = new StringBuilder();
    for (long age : closedAgesMillis) {
      ages.append(' ').append(age);
    }
    System.out.printf(
        "closed by the server: %d, still open %d; ages (ms):%s%n",
        closedAgesMillis.size(), open, ages);
    System.out.flush();
  }

  private static void closeQuietly(SocketChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // Nothing more to do with it.
    }
  }

  /** One connection: when it opened, and what it has yet to send. */
  private static final class Held {
    final long connectingSince = System.nanoTime();
    long openedAt;
    ByteBuffer unsent;
  }

  /** An HTTP/2 frame header: 24-bit length, type, flags, stream 1 (or 0 for SETTINGS). */
  private static byte[] frameHeader(int length, int type, int stream) {
    return ByteBuffer.allocate(9)
        .put((byte) (length >>> 16))
        .putShort((short) length)
        .put((byte) type)
        .put((byte) 0)
        .putInt(stream)
        .array();
  }

  private static byte[] concat(byte[]... parts) {
    ByteBuffer all =
        ByteBuffer.allocate(java.util.Arrays.stream(parts).mapToInt(p -> p.length).sum());
    for (byte[] part : parts) {
      all.put(part);
    }
    return all.array();
  }
}
