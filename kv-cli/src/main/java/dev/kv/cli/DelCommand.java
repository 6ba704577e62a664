package dev.kv.cli;

import dev.kv.core.KvException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "del",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    description = "Deletes KEY, or with --prefix every key that starts with KEY.",
    footer = {
      "",
      "Prints how many keys were deleted. Exits 1 when KEY does not exist (without --prefix)."
    })
final class DelCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "KEY", description = "The key, or the prefix, to delete.")
  String key;

  @Option(names = "--prefix", description = "Delete every key that starts with KEY.")
  boolean prefix;

  @Override
  public Integer call() {
    long count;
    if (prefix) {
      count = kv.store().blocking().deletePrefix(key);
    } else if (kv.store().blocking().delete(key)) {
      count = 1;
    } else {
      throw KvException.notFound(key);
    }
    spec.commandLine().getOut().println(count);
    return ExitCodes.OK;
  }
}
