package dev.kv.server;

/** Log output of the daemon: one line per record, on standard error. */
final class Logging {

  private Logging() {}

  /** Call before anything logs: the format is read once, when the first handler is made. */
  static void configure() {
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty(
          "java.util.logging.SimpleFormatter.format", "%1$tF %1$tT.%1$tL %4$-7s %3$s: %5$s%6$s%n");
    }
  }
}
