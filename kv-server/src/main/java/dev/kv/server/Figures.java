package dev.kv.server;

import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;

/** What the snapshot commands print: sizes and times as people read them, and refusals. */
final class Figures {

  private Figures() {}

  /** Such as {@code 117.7 MiB (123456789 bytes) in 2.3s}, timed from {@code startNanos}. */
  static String sizeAndTime(long bytes, long startNanos) {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    return String.format(
        Locale.ROOT, "%.1f MiB (%d bytes) in %.1fs", bytes / 1048576.0, bytes, seconds);
  }

  /** Prints {@code message} as the one line of a refusal, and gives its exit code. */
  static int refuse(CommandSpec spec, String message) {
    spec.commandLine().getErr().println("kv-server: " + message);
    return Main.EXIT_USAGE;
  }
}
