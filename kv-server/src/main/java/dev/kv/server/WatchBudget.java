package dev.kv.server;

import io.grpc.Status;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the watches of one server hold for clients that read at their own pace, in two bounded
 * parts:
 *
 * <ul>
 *   <li>Answers waiting for their clients, in the heap: each counted once, however many watches it
 *       waits in, since they share its bytes. Past {@link #MAX_WAITING_BYTES}, the watch furthest
 *       behind gives way.
 *   <li>Answers handed to the network and not yet sent, in direct memory, where each watch has its
 *       own copy: at most {@link #MAX_SENDING_BYTES} in all and {@link
 *       #MAX_CONNECTION_SENDING_BYTES} per connection (an answer larger than that goes alone). A
 *       watch whose next answer does not fit waits its turn, first come first served, and sends it
 *       once bytes are sent. A connection whose client does not read holds no more than its share,
 *       and the others go on.
 * </ul>
 */
final class WatchBudget {

  /** Answers waiting for the clients of every watch, each counted once. */
  static final long MAX_WAITING_BYTES = 32 << 20;

  /** Answers handed to the network and not yet sent, within bin/kv-server's 64 MiB of buffers. */
  static final long MAX_SENDING_BYTES = 24 << 20;

  /** The same on one connection: room for one of the largest values and its key. */
  static final long MAX_CONNECTION_SENDING_BYTES = 2 << 20;

  /** The watches, to find the one furthest behind. */
  private final Set<WatchStream> streams = ConcurrentHashMap.newKeySet();

  /** What the watches count: events sent, and watches ended for lagging. */
  final ServerMetrics metrics;

  WatchBudget(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  // Under this object's lock.
  private long waiting;
  private long sending;
  private final Map<Object, Connection> connections = new HashMap<>();

  /** Connections whose next watch waits for bytes of the server's to be sent, in order. */
  private final ArrayDeque<Connection> waitingForServer = new ArrayDeque<>();

  /** A client's connection: what its watches have handed to the network, and those waiting to. */
  static final class Connection {
    private final Object address;
    private int streams;
    private long sending;
    private final ArrayDeque<Turn> queue = new ArrayDeque<>();
    private boolean waitingForServer;

    private Connection(Object address) {
      this.address = address;
    }
  }

  /** A watch waiting to hand {@code bytes} to the network. */
  private record Turn(WatchStream stream, long bytes) {}

  /** Counts {@code stream} as one of the watches on the connection from {@code address}. */
  synchronized Connection join(WatchStream stream, Object address) {
    streams.add(stream);
    Connection connection = connections.computeIfAbsent(address, Connection::new);
    connection.streams++;
    return connection;
  }

  /** Ends every watch with {@code status}, each after what it has already sent. */
  void closeAll(Status status) {
    streams.forEach(stream -> stream.close(status));
  }

  /** {@code stream} ended and has given back what it had: it no longer counts. */
  synchronized void leave(WatchStream stream, Connection connection) {
    streams.remove(stream);
    if (--connection.streams == 0 && connection.sending == 0) {
      connections.remove(connection.address);
    }
  }

  /** The watch with the most bytes waiting, or null for none. */
  WatchStream furthestBehind() {
    WatchStream furthest = null;
    for (WatchStream stream : streams) {
      if (furthest == null || stream.pendingBytes() > furthest.pendingBytes()) {
        furthest = stream;
      }
    }
    return furthest == null || furthest.pendingBytes() == 0 ? null : furthest;
  }

  /**
   * Counts {@code answer} as waiting for one more watch; false, counting nothing, when that would
   * take the server past its budget.
   */
  synchronized boolean hold(EncodedResponse answer) {
    if (answer.holders == 0) {
      if (waiting > 0 && waiting + answer.size() > MAX_WAITING_BYTES) {
        return false;
      }
      waiting += answer.size();
    }
    answer.holders++;
    return true;
  }

  /** As {@link #hold}, within the budget or not: for a watch's own small {@code created}. */
  synchronized void holdAnyway(EncodedResponse answer) {
    if (answer.holders++ == 0) {
      waiting += answer.size();
    }
  }

  /** {@code answer} waits for one watch less. */
  synchronized void letGo(EncodedResponse answer) {
    if (--answer.holders == 0) {
      waiting -= answer.size();
    }
  }

  /**
   * Takes {@code bytes} for {@code stream} to hand to the network, or queues it until they are
   * free: it is then told by {@link WatchStream#granted}, with the bytes taken for it.
   */
  synchronized boolean reserve(WatchStream stream, Connection connection, long bytes) {
    if (connection.queue.isEmpty()
        && waitingForServer.isEmpty()
        && fitsConnection(connection, bytes)
        && fitsServer(bytes)) {
      take(connection, bytes);
      return true;
    }
    connection.queue.add(new Turn(stream, bytes));
    if (connection.queue.size() == 1
        && fitsConnection(connection, bytes)
        && !connection.waitingForServer) {
      connection.waitingForServer = true;
      waitingForServer.add(connection);
    }
    return false;
  }

  /** {@code bytes} handed to the network on {@code connection} were sent, or are no more. */
  void release(Connection connection, long bytes) {
    List<Turn> granted;
    synchronized (this) {
      connection.sending -= bytes;
      sending -= bytes;
      if (connection.streams == 0 && connection.sending == 0) {
        connections.remove(connection.address);
      }
      granted = grant(connection);
    }
    wake(granted);
  }

  /** {@code stream} no longer waits for its turn, if it did. */
  void forget(WatchStream stream, Connection connection) {
    List<Turn> granted;
    synchronized (this) {
      if (!connection.queue.removeIf(turn -> turn.stream() == stream)) {
        return;
      }
      granted = grant(connection);
    }
    wake(granted);
  }

  /** The turns that fit now: the connection's own first, then those waiting for the server. */
  private List<Turn> grant(Connection released) {
    List<Turn> granted = new ArrayList<>();
    serve(released, granted);
    while (!waitingForServer.isEmpty()) {
      Connection next = waitingForServer.peek();
      if (!serve(next, granted)) {
        break;
      }
      waitingForServer.poll();
      next.waitingForServer = false;
    }
    return granted;
  }

  /**
   * Grants the turns of {@code connection} that fit, in order; false when the next one waits for
   * the server's bytes, and the connection is then in line for them.
   */
  private boolean serve(Connection connection, List<Turn> granted) {
    for (Turn next = connection.queue.peek(); next != null; next = connection.queue.peek()) {
      if (!fitsConnection(connection, next.bytes())) {
        return true;
      }
      if (!fitsServer(next.bytes())) {
        if (!connection.waitingForServer) {
          connection.waitingForServer = true;
          waitingForServer.add(connection);
        }
        return false;
      }
      connection.queue.poll();
      take(connection, next.bytes());
      granted.add(next);
    }
    return true;
  }

  private static boolean fitsConnection(Connection connection, long bytes) {
    return connection.sending == 0 || connection.sending + bytes <= MAX_CONNECTION_SENDING_BYTES;
  }

  private boolean fitsServer(long bytes) {
    return sending == 0 || sending + bytes <= MAX_SENDING_BYTES;
  }

  private void take(Connection connection, long bytes) {
    connection.sending += bytes;
    sending += bytes;
  }

  /** The tasks this thread runs once the one it runs now is over; null when it runs none. */
  private static final ThreadLocal<ArrayDeque<Runnable>> AFTER = new ThreadLocal<>();

  /**
   * Tells each granted watch, outside this object's lock. A watch told may send and free bytes for
   * others in turn: those are told after it, on this thread, rather than deeper and deeper in it.
   */
  private static void wake(List<Turn> granted) {
    ArrayDeque<Runnable> after = AFTER.get();
    if (after != null) {
      granted.forEach(turn -> after.add(() -> turn.stream().granted(turn.bytes())));
      return;
    }
    ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    AFTER.set(tasks);
    try {
      granted.forEach(turn -> tasks.add(() -> turn.stream().granted(turn.bytes())));
      for (Runnable task = tasks.poll(); task != null; task = tasks.poll()) {
        task.run();
      }
    } finally {
      AFTER.remove();
    }
  }
}
