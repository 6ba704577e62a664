package dev.kv.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A line on standard error that a long command rewrites as it goes (keys and bytes so far, and the
 * rate), when standard error is a terminal; nothing otherwise, so that logs and pipes stay clean.
 */
final class ProgressLine {

  private static final long EVERY_NANOS = 250_000_000L;

  private final PrintWriter err;
  private final String verb;
  private final long start = System.nanoTime();
  private long shown;
  private int width;

  private ProgressLine(PrintWriter err, String verb) {
    this.err = err;
    this.verb = verb;
  }

  /** A progress line on {@code err} when standard error is a terminal; a silent one otherwise. */
  static ProgressLine onTerminal(PrintWriter err, String verb) {
    return new ProgressLine(stderrIsTerminal() ? err : null, verb);
  }

  void update(long keys, long bytes) {
    long now = System.nanoTime();
    if (err == null || now - shown < EVERY_NANOS) {
      return;
    }
    shown = now;
    double seconds = Math.max(1e-3, (now - start) / 1e9);
    String line =
        String.format(
            "%s %,d keys, %.1f MB, %,.0f keys/s", verb, keys, bytes / 1e6, keys / seconds);
    width = Math.max(width, line.length());
    err.print("\r" + line);
    err.flush();
  }

  /** Clears the line, for the one that says how it ended. */
  void end() {
    if (err != null && width > 0) {
      err.print("\r" + " ".repeat(width) + "\r");
      err.flush();
    }
  }

  /** Whether standard error is a terminal (on Linux, as /proc says; else as the console says). */
  private static boolean stderrIsTerminal() {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (Exception e) {
      return System.console() != null;
    }
  }
}
