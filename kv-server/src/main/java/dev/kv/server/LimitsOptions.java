package dev.kv.server;

import dev.kv.launch.Sizes;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The options that set kv-server's {@link Limits}: what clients may ask of it. */
final class LimitsOptions {

  @Option(
      names = "--max-key-size",
      paramLabel = "SIZE",
      defaultValue = "${env:KV_MAX_KEY_SIZE:-4KiB}",
      description = {
        "The largest key, in UTF-8 bytes; larger ones get INVALID_ARGUMENT.",
        "Env: KV_MAX_KEY_SIZE. Default: ${DEFAULT-VALUE}."
      })
  String maxKeySize;

  @Option(
      names = "--max-value-size",
      paramLabel = "SIZE",
      defaultValue = "${env:KV_MAX_VALUE_SIZE:-1520KiB}",
      description = {
        "The largest value, in UTF-8 bytes; larger ones get INVALID_ARGUMENT. With the largest "
            + "key, it fits in etcd's default request limit of 1.5MiB.",
        "Env: KV_MAX_VALUE_SIZE. Default: ${DEFAULT-VALUE}."
      })
  String maxValueSize;

  @Option(
      names = "--max-message-size",
      paramLabel = "SIZE",
      defaultValue = "${env:KV_MAX_MESSAGE_SIZE:-2MiB}",
      description = {
        "The largest request message; larger ones get RESOURCE_EXHAUSTED.",
        "Env: KV_MAX_MESSAGE_SIZE. Default: ${DEFAULT-VALUE}."
      })
  String maxMessageSize;

  @Option(
      names = "--max-calls",
      paramLabel = "N",
      defaultValue = "${env:KV_MAX_CALLS:-10000}",
      description = {
        "Calls in progress at once, watches aside; more get RESOURCE_EXHAUSTED.",
        "Env: KV_MAX_CALLS. Default: ${DEFAULT-VALUE}."
      })
  int maxCalls;

  @Option(
      names = "--max-watches",
      paramLabel = "N",
      defaultValue = "${env:KV_MAX_WATCHES:-10000}",
      description = {
        "Watches open at once; more get RESOURCE_EXHAUSTED.",
        "Env: KV_MAX_WATCHES. Default: ${DEFAULT-VALUE}."
      })
  int maxWatches;

  @Option(
      names = "--max-connections",
      paramLabel = "N",
      defaultValue = "${env:KV_MAX_CONNECTIONS:-2048}",
      description = {
        "Connections open at once; more are closed as soon as they are accepted. Each costs "
            + "memory, some KiB, even when it makes no call.",
        "Env: KV_MAX_CONNECTIONS. Default: ${DEFAULT-VALUE}."
      })
  int maxConnections;

  @Option(
      names = "--first-request-timeout",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_FIRST_REQUEST_TIMEOUT:-10s}",
      description = {
        "How long a new connection may stay open without making a call, TLS handshake included.",
        "Env: KV_FIRST_REQUEST_TIMEOUT. Default: ${DEFAULT-VALUE}."
      })
  Duration firstRequestTimeout;

  @Option(
      names = "--max-streams-per-connection",
      paramLabel = "N",
      defaultValue = "${env:KV_MAX_STREAMS_PER_CONNECTION:-1000}",
      description = {
        "Calls open at once on one connection (HTTP/2's limit); a client's next ones wait.",
        "Env: KV_MAX_STREAMS_PER_CONNECTION. Default: ${DEFAULT-VALUE}."
      })
  int maxStreamsPerConnection;

  @Option(
      names = "--keepalive-min-time",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_KEEPALIVE_MIN_TIME:-10s}",
      description = {
        "The shortest interval between a client's keepalive pings; a client that pings more "
            + "often is disconnected.",
        "Env: KV_KEEPALIVE_MIN_TIME. Default: ${DEFAULT-VALUE}."
      })
  Duration keepAliveMinTime;

  @Option(
      names = "--max-connection-idle",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_MAX_CONNECTION_IDLE:-5m}",
      description = {
        "How long a connection without calls stays open; 0s for ever.",
        "Env: KV_MAX_CONNECTION_IDLE. Default: ${DEFAULT-VALUE}."
      })
  Duration maxConnectionIdle;

  @Option(
      names = "--max-connection-age",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_MAX_CONNECTION_AGE:-1h}",
      description = {
        "How long a connection takes new calls; its calls in progress, watches included, go on, "
            + "and the client opens a new one, which spreads clients over new servers. 0s for "
            + "ever.",
        "Env: KV_MAX_CONNECTION_AGE. Default: ${DEFAULT-VALUE}."
      })
  Duration maxConnectionAge;

  @Option(
      names = "--default-deadline",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_DEFAULT_DEADLINE:-30s}",
      description = {
        "The deadline of a call that sets none (watches have none): past it, the call gets "
            + "DEADLINE_EXCEEDED.",
        "Env: KV_DEFAULT_DEADLINE. Default: ${DEFAULT-VALUE}."
      })
  Duration defaultDeadline;

  // Fair limits: what one client may hold of the server, and for how long.

  @Option(
      names = "--max-bytes-in-progress",
      paramLabel = "SIZE",
      defaultValue = "${env:KV_MAX_BYTES_IN_PROGRESS:-8MiB}",
      description = {
        "Bytes of requests in progress at once, counted as they arrive and, for compressed "
            + "ones, as they inflate; a request that finds no room gets RESOURCE_EXHAUSTED. The "
            + "network buffers of unfinished requests take several times what they hold: keep "
            + "it to an eighth of the direct memory (-XX:MaxDirectMemorySize, 64m in "
            + "bin/kv-server).",
        "Env: KV_MAX_BYTES_IN_PROGRESS. Default: ${DEFAULT-VALUE}."
      })
  String maxBytesInProgress;

  @Option(
      names = "--max-unauthenticated-calls",
      paramLabel = "N",
      defaultValue = "${env:KV_MAX_UNAUTHENTICATED_CALLS:-100}",
      description = {
        "Calls and watches in progress at once to health checks and reflection, which answer "
            + "without a token: a budget of their own, apart from --max-calls and --max-watches; "
            + "more get RESOURCE_EXHAUSTED.",
        "Env: KV_MAX_UNAUTHENTICATED_CALLS. Default: ${DEFAULT-VALUE}."
      })
  int maxUnauthenticatedCalls;

  @Option(
      names = "--max-call-duration",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_MAX_CALL_DURATION:-1m}",
      description = {
        "The longest any call may run, whatever deadline its client set (watches aside): past "
            + "it, the call gets DEADLINE_EXCEEDED.",
        "Env: KV_MAX_CALL_DURATION. Default: ${DEFAULT-VALUE}."
      })
  Duration maxCallDuration;

  @Option(
      names = "--max-share-per-address",
      paramLabel = "PERCENT",
      defaultValue = "${env:KV_MAX_SHARE_PER_ADDRESS:-50}",
      description = {
        "The most of each of --max-calls, --max-unauthenticated-calls and --max-bytes-in-progress "
            + "that the connections from one client address may hold together, in percent; "
            + "past it, their calls get RESOURCE_EXHAUSTED. Behind a proxy, every call comes "
            + "from the proxy's address: set 100 there, and let the proxy limit each client.",
        "Env: KV_MAX_SHARE_PER_ADDRESS. Default: ${DEFAULT-VALUE}."
      })
  int maxSharePerAddress;

  @Option(
      names = "--max-share-per-connection",
      paramLabel = "PERCENT",
      defaultValue = "${env:KV_MAX_SHARE_PER_CONNECTION:-25}",
      description = {
        "The most of each that one connection may hold, in percent, so that other connections "
            + "from the same address are still served.",
        "Env: KV_MAX_SHARE_PER_CONNECTION. Default: ${DEFAULT-VALUE}."
      })
  int maxSharePerConnection;

  /**
   * The limits the options give.
   *
   * @throws IllegalArgumentException for a size that does not read, or limits that do not fit
   */
  Limits limits() {
    return new Limits(
        size("--max-key-size", maxKeySize),
        size("--max-value-size", maxValueSize),
        size("--max-message-size", maxMessageSize),
        maxStreamsPerConnection,
        maxCalls,
        maxWatches,
        keepAliveMinTime,
        maxConnectionIdle,
        maxConnectionAge,
        defaultDeadline,
        maxConnections,
        firstRequestTimeout,
        size("--max-bytes-in-progress", maxBytesInProgress),
        maxUnauthenticatedCalls,
        maxCallDuration,
        maxSharePerAddress,
        maxSharePerConnection);
  }

  private static int size(String option, String text) {
    try {
      return Sizes.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + ": " + e.getMessage());
    }
  }
}
