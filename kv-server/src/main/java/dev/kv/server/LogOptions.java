package dev.kv.server;

import ch.qos.logback.classic.Level;
import picocli.CommandLine.Option;

/** The options that say what {@code kv-server} logs, and how. */
final class LogOptions {

  /** The levels {@code --log-level} takes, from the fewest records to the most. */
  enum LogLevel {
    error(Level.ERROR),
    warn(Level.WARN),
    info(Level.INFO),
    debug(Level.DEBUG),
    trace(Level.TRACE);

    final Level level;

    LogLevel(Level level) {
      this.level = level;
    }
  }

  @Option(
      names = "--log-format",
      paramLabel = "FORMAT",
      defaultValue = "${env:KV_LOG_FORMAT:-text}",
      description = {
        "How to write the log, on standard error: text (a line per record, for people) or json "
            + "(an object per line: time, level, logger, message and fields such as store, peer, "
            + "method and status, for log collectors).",
        "Env: KV_LOG_FORMAT. Default: ${DEFAULT-VALUE}."
      })
  LogFormat format;

  @Option(
      names = "--log-level",
      paramLabel = "LEVEL",
      defaultValue = "${env:KV_LOG_LEVEL:-info}",
      description = {
        "The least severe records to write: ${COMPLETION-CANDIDATES}. Values, tokens and "
            + "passwords are never logged, at any level.",
        "Env: KV_LOG_LEVEL. Default: ${DEFAULT-VALUE}."
      })
  LogLevel level;

  @Option(
      names = "--access-log",
      defaultValue = "${env:KV_ACCESS_LOG:-false}",
      description = {
        "Log one line per call: method, status, duration and the client's address (logger "
            + "dev.kv.server.AccessLog, level info). Never the keys, values or tokens.",
        "Env: KV_ACCESS_LOG (true or false). Default: off."
      })
  boolean accessLog;

  /** Makes the process log as the options say. */
  void apply() {
    Logging.configure(format, level.level);
  }
}
