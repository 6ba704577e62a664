package dev.kv.server;

import dev.kv.core.config.Durations;
import dev.kv.core.config.Sizes;
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
    Duration defaultDeadline) {

  /**
   * The defaults. A largest value with a largest key fits in etcd's default request limit (1.5 MiB,
   * {@code --max-request-bytes}) even in a conditional write, whose transaction names the key three
   * times, with room to spare for its framing: every store accepts what kv-server accepts.
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
          Duration.ofSeconds(30));

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
  }

  private static void requirePositive(String what, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(what + " must be at least 1, not " + value);
    }
  }
}
