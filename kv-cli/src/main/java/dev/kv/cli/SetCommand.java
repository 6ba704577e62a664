package dev.kv.cli;

import com.google.gson.JsonObject;
import dev.kv.core.Swap;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "set",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    description = {
      "Stores VALUE under KEY, replacing any previous value. Prints nothing on success; with "
          + "-o json, the revision the write created.",
      "With --if-absent or --if-revision, writes only if the condition holds (compare-and-set); "
          + "otherwise exits 1 and says what the key holds now."
    })
final class SetCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key to write.")
  String key;

  @Parameters(index = "1", paramLabel = "VALUE", description = "The value to store; may be empty.")
  String value;

  @ArgGroup(exclusive = true)
  Condition condition;

  static final class Condition {
    @Option(names = "--if-absent", description = "Write only if KEY does not exist yet.")
    boolean ifAbsent;

    @Option(
        names = "--if-revision",
        paramLabel = "N",
        description = "Write only if KEY's modRevision is N (see get -o json).")
    Long ifRevision;

    long expected() {
      return ifAbsent ? Swap.ABSENT : ifRevision;
    }
  }

  @Override
  public Integer call() {
    JsonObject result = new JsonObject();
    result.addProperty("key", key);
    if (condition == null) {
      result.addProperty("revision", kv.store().blocking().set(key, value));
    } else {
      Swap swap = kv.store().blocking().setIf(key, value, condition.expected());
      if (!swap.applied()) {
        return Conditions.refused(kv, spec, "not set", key, condition.expected(), swap);
      }
      result.addProperty("revision", swap.revision());
    }
    if (kv.output == Output.json) {
      Output.print(spec.commandLine().getOut(), result);
    }
    return ExitCodes.OK;
  }
}
