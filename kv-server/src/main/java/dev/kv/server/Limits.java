package dev.kv.server;

import dev.kv.core.config.Durations;
import dev.kv.launch.Sizes;
import java.time.Duration;

/**
 * What one client, or many, may ask of a server, so that none can exhaust it: each limit, when
 * reached, gives the caller a status that says which one.
 *
 * @param maxKeyBytes the largest key, in UTF-8 bytes ({@code INVALID_ARGUMENT} beyond)
 * @param maxValueBytes the largest value, in UTF-8 bytes ({@code INVALID_ARGUMENT} beyond)
 * @param maxMessageBytes the largest request message ({@code RESOURCE_EXHAUSTED} beyond)
 * @param maxStreamsPerConnection calls open at once on one connection; HTTP/2 makes more wait
 * @param maxCalls calls other than watches in progress at once ({@code RESOURCE_EXHAUSTED} beyond)
 * @param maxWatches watches open at once ({@code RESOURCE_EXHAUSTED} beyond)
 * @param keepAliveMinTime the shortest interval between a client's keepalive pings; a client that
 *     pings more often is disconnected
 * @param maxConnectionIdle how long a connection without calls stays open
 * @param maxConnectionAge how long a connection takes new calls; its calls in progress, watches
 *     included, go on, and the client opens a new connection for the next ones
 * @param defaultDeadline the deadline of a call that sets none (watches have none)
 * @param maxConnections connections open at once; more are closed as soon as they are accepted
 * @param firstRequestTimeout how long a connection may stay open without making a call
 * @param maxBytesInProgress the bytes of requests in progress, as they arrive and as they inflate
 *     when compressed ({@code RESOURCE_EXHAUSTED} beyond)
 * @param maxUnauthenticatedCalls calls and watches in progress at once to health checks and
 *     reflection, which answer without a token: a budget apart from the others ({@code
 *     RESOURCE_EXHAUSTED} beyond)
 * @param maxCallDuration the longest any call may run, whatever its deadline (watches aside): it
 *     ends with {@code DEADLINE_EXCEEDED}
 * @param maxSharePerAddress the percentage of each of calls in progress, unauthenticated calls and
 *     request bytes that the connections from one client address may hold together
 * @param maxSharePerConnection the percentage of each that one connection may hold
 */
public record Limits(
    int maxKeyBytes,
    int maxValueBytes,
    int maxMessageBytes,
    int maxStreamsPerConnection,
    int maxCalls,
    int maxWatches,
    Duration keepAliveMinTime,
    Duration maxConnectionIdle,
    Duration maxConnectionAge,
    Duration defaultDeadline,
    int maxConnections,
    Duration firstRequestTimeout,
    int maxBytesInProgress,
    int maxUnauthenticatedCalls,
    Duration maxCallDuration,
    int maxSharePerAddress,
    int maxSharePerConnection) {

  /**
   * The defaults. A largest value with a largest key fits in etcd's default request limit (1.5 MiB,
   * {@code --max-request-bytes}) even in a conditional write, whose transaction names the key three
   * times, with room to spare for its framing: every store accepts what kv-server accepts.
   *
   * <p>The connections fit in bin/kv-server's memory: an idle one holds about 7 KiB of heap (2048
   * of them, 14 MiB of 128), and one in the middle of a frame up to 16 KiB of direct memory more
   * (2048 of them, 32 MiB of 64). A client makes its first call as soon as it has connected: the 10
   * seconds are for a slow TLS handshake.
   *
   * <p>The bytes in progress are an eighth of bin/kv-server's direct memory, as the network buffers
   * of unfinished requests take several times what they hold (measured: 4 to 8 times).
   */
  public static final Limits DEFAULTS =
      new Limits(
          4 << 10,
          1520 << 10,
          2 << 20,
          1000,
          10_000,
          10_000,
          Duration.ofSeconds(10),
          Duration.ofMinutes(5),
          Duration.ofHours(1),
          Duration.ofSeconds(30),
          2048,
          Duration.ofSeconds(10),
          8 << 20,
          100,
          Duration.ofMinutes(1),
          50,
          25);

  public Limits {
    requirePositive("the largest key", maxKeyBytes);
    requirePositive("the largest value", maxValueBytes);
    requirePositive("the largest message", maxMessageBytes);
    requirePositive("streams per connection", maxStreamsPerConnection);
    requirePositive("calls in progress", maxCalls);
    requirePositive("watches", maxWatches);
    if (maxMessageBytes < maxKeyBytes + maxValueBytes) {
      throw new IllegalArgumentException(
          "the largest message ("
              + Sizes.format(maxMessageBytes)
              + ") must hold the largest key and value ("
              + Sizes.format(maxKeyBytes)
              + " + "
              + Sizes.format(maxValueBytes)
              + ")");
    }
    Durations.requireTimeout(defaultDeadline);
    requirePositive("connections", maxConnections);
    Durations.requireTimeout(firstRequestTimeout);
    requirePositive("bytes in progress", maxBytesInProgress);
    requirePositive("unauthenticated calls", maxUnauthenticatedCalls);
    Durations.requireTimeout(maxCallDuration);
    if (maxCallDuration.compareTo(defaultDeadline) < 0) {
      throw new IllegalArgumentException(
          "the longest call ("
              + Durations.format(maxCallDuration)
              + ") must not be shorter than the default deadline ("
              + Durations.format(defaultDeadline)
              + ")");
    }
    requirePercentage("the share per address", maxSharePerAddress);
    requirePercentage("the share per connection", maxSharePerConnection);
    long connectionBytes =
        (long) maxBytesInProgress * Math.min(maxSharePerAddress, maxSharePerConnection) / 100;
    if (connectionBytes < maxMessageBytes) {
      throw new IllegalArgumentException(
          "one connection's share of the bytes in progress ("
              + Sizes.format(connectionBytes)
              + ") must hold the largest message ("
              + Sizes.format(maxMessageBytes)
              + ")");
    }
  }

  private static void requirePercentage(String what, int value) {
    if (value < 1 || value > 100) {
      throw new IllegalArgumentException(what + " is a percentage from 1 to 100, not " + value);
    }
  }

  private static void requirePositive(String what, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(what + " must be at least 1, not " + value);
    }
  }
}
