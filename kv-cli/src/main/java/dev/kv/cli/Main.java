package dev.kv.cli;

import java.util.logging.Level;
import java.util.logging.Logger;

/** The {@code kv} command line. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    // The client library's log lines are noise to a person at a terminal; --verbose brings them.
    Logger.getLogger("").setLevel(Level.OFF);
    System.exit(Cli.commandLine(args).execute(args));
  }
}
