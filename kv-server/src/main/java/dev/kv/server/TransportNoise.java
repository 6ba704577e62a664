package dev.kv.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.slf4j.Marker;
import org.slf4j.helpers.MessageFormatter;

/**
 * gRPC's Netty transport logs a warning with a stack trace for each malformed frame or message a
 * client sends, so a hostile client could fill the log: each such record becomes one line, without
 * the trace, and at most {@link #PER_MINUTE} of them are written a minute.
 */
final class TransportNoise extends TurboFilter {

  static final int PER_MINUTE = 10;
  private static final String TRANSPORT = "io.grpc.netty.";
  private static final long WINDOW = Duration.ofMinutes(1).toNanos();

  private final LongSupplier nanoTime;
  private long windowStart;
  private int written;
  private int dropped;

  TransportNoise() {
    this(System::nanoTime);
  }

  TransportNoise(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
    this.windowStart = nanoTime.getAsLong();
  }

  @Override
  public FilterReply decide(
      Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (t == null || !logger.getName().startsWith(TRANSPORT)) {
      return FilterReply.NEUTRAL;
    }
    if (!logger.isEnabledFor(level)) {
      return FilterReply.DENY;
    }
    String line = shortLine(MessageFormatter.arrayFormat(format, params).getMessage(), t);
    if (line != null) {
      logger.log(marker, Logger.FQCN, Level.toLocationAwareLoggerInteger(level), line, null, null);
    }
    return FilterReply.DENY;
  }

  /** The line to write in place of the record, or null when this minute's lines are used up. */
  private synchronized String shortLine(String message, Throwable error) {
    long now = nanoTime.getAsLong();
    String since = "";
    if (now - windowStart >= WINDOW) {
      since = dropped == 0 ? "" : " (" + dropped + " more like it in the last minute, not shown)";
      windowStart = now;
      written = 0;
      dropped = 0;
    }
    if (written == PER_MINUTE) {
      dropped++;
      return null;
    }
    written++;
    return message + ": " + rootCause(error) + since;
  }

  private static String rootCause(Throwable error) {
    Throwable cause = error;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }
}
