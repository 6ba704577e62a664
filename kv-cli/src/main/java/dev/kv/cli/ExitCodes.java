package dev.kv.cli;

import dev.kv.core.KvException;
import java.util.LinkedHashMap;
import java.util.Map;

/** The exit codes of {@code kv}, as {@code kv --help} documents them. */
final class ExitCodes {

  static final int OK = 0;
  static final int NOT_FOUND = 1;
  static final int CONDITION_FAILED = 1;
  static final int USAGE = 2;
  static final int FAILED = 3;
  static final int REVISION_GONE = 4;
  static final int VALUE_NOT_TEXT = 5;
  static final int DATA_LOSS = 6;

  /** How {@code --help} explains them, on every command. */
  static final Map<String, String> DESCRIPTIONS =
      descriptions(
          OK,
          "success",
          NOT_FOUND,
          "the key was not found (del --prefix: no key matched), or a condition "
              + "(--if-absent, --if-revision, import --on-conflict fail) did not hold",
          USAGE,
          "invalid usage or input, such as a damaged, truncated or foreign file to import",
          FAILED,
          "the server or etcd is unreachable, timed out or failed",
          REVISION_GONE,
          "a revision asked for is no longer kept (watch --rev, list --rev): etcd compacted it, "
              + "or the store's history no longer reaches back to it",
          VALUE_NOT_TEXT,
          "the value is not UTF-8 text (another etcd client wrote it): get --hex or -o json"
              + " shows it",
          DATA_LOSS,
          "the store's files are damaged and the answer cannot be read whole; the message names"
              + " where");

  private ExitCodes() {}

  private static Map<String, String> descriptions(Object... codesAndTexts) {
    Map<String, String> descriptions = new LinkedHashMap<>();
    for (int i = 0; i < codesAndTexts.length; i += 2) {
      descriptions.put(String.valueOf(codesAndTexts[i]), (String) codesAndTexts[i + 1]);
    }
    return descriptions;
  }

  /** The exit code for a store error. */
  static int of(KvException error) {
    return switch (error.code()) {
      case NOT_FOUND -> NOT_FOUND;
      case INVALID_ARGUMENT -> USAGE;
      case OUT_OF_RANGE -> REVISION_GONE;
      case FAILED_PRECONDITION -> VALUE_NOT_TEXT;
      case DATA_LOSS -> DATA_LOSS;
      default -> FAILED;
    };
  }
}
