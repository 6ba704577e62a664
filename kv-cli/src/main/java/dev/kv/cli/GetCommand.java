package dev.kv.cli;

import dev.kv.core.KvException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "get",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    description = "Prints the value stored under KEY, followed by a newline.",
    footer = {"", "Exits 1, printing nothing on standard output, when KEY does not exist."})
final class GetCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "KEY", description = "The key to read.")
  String key;

  @Override
  public Integer call() {
    String value = kv.store().blocking().get(key).orElseThrow(() -> KvException.notFound(key));
    spec.commandLine().getOut().println(value);
    return ExitCodes.OK;
  }
}
