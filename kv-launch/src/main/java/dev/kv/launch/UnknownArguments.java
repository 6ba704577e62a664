package dev.kv.launch;

import java.util.List;

/**
 * Says which command-line arguments were not understood without repeating their values: a mistyped
 * option may well be followed by a password, as in {@code --etcd-password hunter2}.
 */
public final class UnknownArguments {

  private UnknownArguments() {}

  /**
   * The first unknown option by its name alone (what follows {@code =} left out); without one, the
   * first unexpected argument.
   */
  public static String describe(List<String> unmatched) {
    for (String argument : unmatched) {
      if (argument.startsWith("-") && argument.length() > 1) {
        int equals = argument.indexOf('=');
        return "unknown option '" + (equals < 0 ? argument : argument.substring(0, equals)) + "'";
      }
    }
    return unmatched.isEmpty()
        ? "unexpected argument"
        : "unexpected argument '" + unmatched.get(0) + "'";
  }
}
