package dev.kv.cli;

import dev.kv.core.config.Durations;
import java.time.Duration;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads {@code --ttl}: a duration such as {@code 30s}, or a bare number of seconds as etcd's leases
 * take it. Only here: a time to live is whole seconds anyway, while a bare {@code --timeout 5}
 * could as well mean milliseconds, so other durations keep their unit.
 */
final class TimeToLive implements ITypeConverter<Duration> {

  // At most 18 digits, so that a long holds them; longer ones fail as durations do.
  private static final Pattern SECONDS = Pattern.compile("\\d{1,18}");

  @Override
  public Duration convert(String text) {
    if (SECONDS.matcher(text.trim()).matches()) {
      return Duration.ofSeconds(Long.parseLong(text.trim()));
    }
    try {
      return Durations.parse(text);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(
          "expected a time to live such as 30 (seconds), 30s or 10m, not '" + text + "'");
    }
  }
}
