package dev.kv.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
    name = "set",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    description =
        "Stores VALUE under KEY, replacing any previous value. Prints nothing on success.")
final class SetCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key to write.")
  String key;

  @Parameters(index = "1", paramLabel = "VALUE", description = "The value to store; may be empty.")
  String value;

  @Override
  public Integer call() {
    kv.store().blocking().set(key, value);
    return ExitCodes.OK;
  }
}
