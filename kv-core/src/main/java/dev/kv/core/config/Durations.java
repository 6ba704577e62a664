package dev.kv.core.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads and writes durations as users type them: {@code 500ms}, {@code 5s}, {@code 2m}. */
public final class Durations {

  private static final Pattern SIMPLE = Pattern.compile("(\\d+)(ms|s|m|h)");

  private Durations() {}

  /**
   * Reads a duration such as {@code 500ms}, {@code 5s}, {@code 2m} or {@code 1h}, or in ISO-8601
   * form ({@code PT5S}). Negative durations are refused.
   *
   * @throws IllegalArgumentException with a message saying what is expected
   */
  public static Duration parse(String text) {
    String expected = "expected a duration such as 500ms, 5s, 2m or 1h, not '" + text + "'";
    if (text == null) {
      throw new IllegalArgumentException(expected);
    }
    Matcher simple = SIMPLE.matcher(text.trim());
    Duration duration;
    try {
      if (simple.matches()) {
        long amount = Long.parseLong(simple.group(1));
        duration =
            switch (simple.group(2)) {
              case "ms" -> Duration.ofMillis(amount);
              case "s" -> Duration.ofSeconds(amount);
              case "m" -> Duration.ofMinutes(amount);
              default -> Duration.ofHours(amount);
            };
      } else {
        duration = Duration.parse(text.trim());
      }
    } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException(expected);
    }
    if (duration.isNegative()) {
      throw new IllegalArgumentException("a duration must not be negative, not '" + text + "'");
    }
    return duration;
  }

  /**
   * Checks a call timeout: longer than zero, and at most a day, past which a deadline means nothing
   * and its arithmetic overflows.
   *
   * @throws IllegalArgumentException when it is out of that range
   */
  public static Duration requireTimeout(Duration timeout) {
    if (timeout == null
        || timeout.isNegative()
        || timeout.isZero()
        || timeout.compareTo(Duration.ofDays(1)) > 0) {
      throw new IllegalArgumentException(
          "a timeout must be longer than 0 and at most 24h, not "
              + (timeout == null ? null : format(timeout)));
    }
    return timeout;
  }

  /** Writes {@code duration} in the shortest form {@link #parse} reads back exactly. */
  public static String format(Duration duration) {
    long millis = duration.toMillis();
    if (millis % 3_600_000 == 0 && millis != 0) {
      return millis / 3_600_000 + "h";
    }
    if (millis % 60_000 == 0 && millis != 0) {
      return millis / 60_000 + "m";
    }
    if (millis % 1000 == 0) {
      return millis / 1000 + "s";
    }
    return millis + "ms";
  }
}
