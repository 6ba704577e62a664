package dev.kv.cli;

import dev.kv.core.KeyValue;
import dev.kv.core.Keys;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.ReadConsistency;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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
    footer = {
      "",
      "Exits 1, printing nothing on standard output, when KEY does not exist; 5 when its value "
          + "is not UTF-8 text, which --hex and -o json show."
    })
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

  @Mixin ValueFormat values;

  @Override
  public Integer call() {
    KeyValue entry = read().orElseThrow(() -> KvException.notFound(key));
    if (kv.output == Output.json) {
      Output.print(spec.commandLine().getOut(), Output.entry(entry));
    } else {
      spec.commandLine().getOut().println(values.of(entry));
    }
    return ExitCodes.OK;
  }

  private Optional<KeyValue> read() {
    try {
      return kv.store().blocking().entry(key, consistency);
    } catch (KvException e) {
      if (e.code() != KvException.Code.FAILED_PRECONDITION) {
        throw e;
      }
      if (values.hex || kv.output == Output.json) {
        return listed();
      }
      throw new KvException(
          e.code(), e.getMessage() + "; 'kv get --hex " + key + "' (or -o json) shows it", e);
    }
  }

  /**
   * The entry as a listing gives it, for a value that is not text, which a read of one key refuses;
   * on etcd and through kv-server alike. By prefix, whose end is no longer than the key, so the
   * longest key fits.
   */
  private Optional<KeyValue> listed() {
    ListQuery exactly = ListQuery.prefix(Keys.requireValid(key)).limit(1).consistency(consistency);
    return kv.store().blocking().list(exactly).entries().stream()
        .filter(entry -> entry.key().equals(key))
        .findFirst();
  }
}
