package dev.kv.launch;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads and writes sizes in bytes as users type them: {@code 512}, {@code 4KiB}, {@code 2MiB}. */
public final class Sizes {

  private static final Pattern SIZE =
      Pattern.compile("(\\d+)\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?", Pattern.CASE_INSENSITIVE);

  private Sizes() {}

  /**
   * Reads a size: a number of bytes, or of KiB, MiB or GiB (K, KB, M, MB, G and GB mean the same,
   * powers of 1024). Sizes up to 2 GiB less one byte fit.
   *
   * @throws IllegalArgumentException with a message saying what is expected
   */
  public static int parse(String text) {
    Matcher size = SIZE.matcher(text == null ? "" : text.trim());
    if (!size.matches()) {
      throw new IllegalArgumentException(
          "expected a size such as 4096, 4KiB or 2MiB, not '" + text + "'");
    }
    String unit = size.group(2) == null ? "b" : size.group(2).toLowerCase(Locale.ROOT);
    int shift =
        switch (unit.charAt(0)) {
          case 'k' -> 10;
          case 'm' -> 20;
          case 'g' -> 30;
          default -> 0;
        };
    long amount;
    try {
      amount = Long.parseLong(size.group(1));
    } catch (NumberFormatException e) {
      amount = Long.MAX_VALUE;
    }
    if (amount > (Integer.MAX_VALUE >> shift)) {
      throw new IllegalArgumentException("a size must be below 2GiB, not '" + text + "'");
    }
    return (int) (amount << shift);
  }

  /** Writes {@code bytes} in the shortest form {@link #parse} reads back exactly. */
  public static String format(long bytes) {
    if (bytes != 0 && bytes % (1 << 20) == 0) {
      return bytes / (1 << 20) + "MiB";
    }
    if (bytes != 0 && bytes % 1024 == 0) {
      return bytes / 1024 + "KiB";
    }
    return bytes + "B";
  }
}
