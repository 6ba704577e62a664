package dev.kv.cli;

import com.google.gson.JsonObject;
import dev.kv.core.Deleted;
import dev.kv.core.KvException;
import dev.kv.core.Swap;
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
    description = {
      "Deletes KEY, or with --prefix every key that starts with KEY, and prints how many keys "
          + "were deleted.",
      "Exits 1 when nothing was deleted (KEY does not exist, or no key starts with it), or "
          + "when --if-revision does not hold."
    })
final class DelCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "KEY", description = "The key, or the prefix, to delete.")
  String key;

  @Option(names = "--prefix", description = "Delete every key that starts with KEY.")
  boolean prefix;

  @Option(
      names = "--if-revision",
      paramLabel = "N",
      description = "Delete only if KEY's modRevision is N (see get -o json). Not with --prefix.")
  Long ifRevision;

  @Override
  public Integer call() {
    if (ifRevision != null && ifRevision < 1) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--if-revision takes a revision of at least 1");
    }
    if (prefix && ifRevision != null) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--if-revision does not go with --prefix");
    }
    Deleted deleted;
    if (ifRevision != null) {
      Swap swap = kv.store().blocking().deleteIf(key, ifRevision);
      if (!swap.applied()) {
        return Conditions.refused(kv, spec, "not deleted", key, ifRevision, swap);
      }
      deleted = new Deleted(1, swap.revision());
    } else {
      deleted =
          prefix ? kv.store().blocking().deletePrefix(key) : kv.store().blocking().delete(key);
    }
    if (kv.output == Output.json) {
      JsonObject result = new JsonObject();
      result.addProperty("deleted", deleted.count());
      result.addProperty("revision", deleted.revision());
      Output.print(spec.commandLine().getOut(), result);
    } else {
      spec.commandLine().getOut().println(deleted.count());
    }
    if (deleted.count() == 0) {
      String missing =
          prefix ? "no key starts with " + key : KvException.notFound(key).getMessage();
      return kv.output.failure(
          spec.commandLine().getErr(),
          missing,
          KvException.Code.NOT_FOUND.name(),
          ExitCodes.NOT_FOUND);
    }
    return ExitCodes.OK;
  }
}
