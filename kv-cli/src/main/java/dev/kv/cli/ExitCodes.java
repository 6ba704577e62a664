package dev.kv.cli;

import dev.kv.core.KvException;

/** The exit codes of {@code kv}, as {@code kv --help} documents them. */
final class ExitCodes {

  static final int OK = 0;
  static final int NOT_FOUND = 1;
  static final int USAGE = 2;
  static final int FAILED = 3;

  private ExitCodes() {}

  /** The exit code for a store error. */
  static int of(KvException error) {
    return switch (error.code()) {
      case NOT_FOUND -> NOT_FOUND;
      case INVALID_ARGUMENT -> USAGE;
      default -> FAILED;
    };
  }
}
