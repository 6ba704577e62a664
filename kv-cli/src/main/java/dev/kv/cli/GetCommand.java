package dev.kv.cli;

import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.ReadConsistency;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "get",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    description = {
      "Prints the value stored under KEY, followed by a newline; with -o json, the entry with "
          + "its revisions (modRevision is what set --if-revision expects)."
    },
    footer = {"", "Exits 1, printing nothing on standard output, when KEY does not exist."})
final class GetCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "KEY", description = "The key to read.")
  String key;

  @Option(
      names = "--consistency",
      paramLabel = "LEVEL",
      defaultValue = "linearizable",
      description = {
        "linearizable (sees every write acknowledged before) or serializable (may miss the "
            + "latest writes; cheaper). Default: ${DEFAULT-VALUE}."
      })
  ReadConsistency consistency;

  @Override
  public Integer call() {
    KeyValue entry =
        kv.store().blocking().entry(key, consistency).orElseThrow(() -> KvException.notFound(key));
    if (kv.output == Output.json) {
      Output.print(spec.commandLine().getOut(), Output.entry(entry));
    } else {
      spec.commandLine().getOut().println(entry.value());
    }
    return ExitCodes.OK;
  }
}
