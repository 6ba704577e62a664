package dev.kv.cli;

import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/** The {@code kv} command line. */
public final class Main {

  private static final String NETTY_ALLOCATOR = "io.netty.allocator.type";

  private Main() {}

  public static void main(String[] args) {
    // The client library's log lines are noise to a person at a terminal; --verbose brings them.
    Logger.getLogger("").setLevel(Level.OFF);
    // A command that makes a call or two needs no pool of network buffers, whose set-up is about
    // a fifth of its start; kv bench, which makes many, keeps it, as does an explicit choice.
    if (System.getProperty(NETTY_ALLOCATOR) == null && !List.of(args).contains("bench")) {
      System.setProperty(NETTY_ALLOCATOR, "unpooled");
    }
    System.exit(Cli.commandLine(args).execute(args));
  }
}
