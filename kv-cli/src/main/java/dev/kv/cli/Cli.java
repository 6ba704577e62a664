package dev.kv.cli;

import dev.kv.core.KvException;
import dev.kv.launch.CommandLines;
import java.io.PrintWriter;
import picocli.CommandLine;

/** Builds the configured {@code kv} command line, the same for {@link Main} and for tests. */
final class Cli {

  private Cli() {}

  static CommandLine commandLine() {
    KvCommand kv = new KvCommand();
    CommandLine commandLine = CommandLines.create(kv, new Failures(kv));
    HelpLayout.apply(commandLine);
    commandLine.setExecutionStrategy(
        parseResult -> {
          try (kv) {
            return new CommandLine.RunLast().execute(parseResult);
          }
        });
    return commandLine;
  }

  /** One line on standard error, as text or JSON as {@code --output} asks. */
  private record Failures(KvCommand kv) implements CommandLines.Failures {

    @Override
    public int usage(CommandLine command, String message) {
      if (kv.output == Output.text) {
        message += " (see '" + command.getCommandSpec().qualifiedName() + " --help')";
      }
      return kv.output.failure(command.getErr(), message, Output.USAGE_ERROR, ExitCodes.USAGE);
    }

    @Override
    public int failed(CommandLine command, Exception error) {
      PrintWriter err = command.getErr();
      if (kv.verbose) {
        error.printStackTrace(err);
      }
      if (error instanceof KvException kvError) {
        return kv.output.failure(
            err, kvError.getMessage(), kvError.code().name(), ExitCodes.of(kvError));
      }
      return kv.output.failure(
          err, "unexpected error: " + error, Output.UNEXPECTED, ExitCodes.FAILED);
    }
  }
}
