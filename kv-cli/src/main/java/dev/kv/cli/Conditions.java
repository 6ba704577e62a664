package dev.kv.cli;

import com.google.gson.JsonObject;
import dev.kv.core.Swap;
import picocli.CommandLine.Model.CommandSpec;

/** What a conditional write that did not apply tells the user. */
final class Conditions {

  private Conditions() {}

  /**
   * Says why {@code swap} did not apply, on standard error (and with {@code -o json}, what the key
   * holds now on standard output), and returns the exit code.
   */
  static int refused(
      KvCommand kv, CommandSpec spec, String what, String key, long expected, Swap swap) {
    String why =
        swap.current()
            .map(
                current ->
                    expected == Swap.ABSENT
                        ? key + " already exists (modRevision " + current.modRevision() + ")"
                        : key + " has modRevision " + current.modRevision() + ", not " + expected)
            .orElse(key + " does not exist");
    if (kv.output == Output.json) {
      JsonObject result = new JsonObject();
      result.addProperty("key", key);
      result.addProperty("applied", false);
      swap.current().map(Output::entry).ifPresent(entry -> result.add("current", entry));
      Output.print(spec.commandLine().getOut(), result);
    }
    return kv.output.failure(
        spec.commandLine().getErr(),
        what + ": " + why,
        Output.CONDITION_FAILED,
        ExitCodes.CONDITION_FAILED);
  }
}
