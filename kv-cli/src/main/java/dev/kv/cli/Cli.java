package dev.kv.cli;

import dev.kv.core.KvException;
import dev.kv.launch.CommandLines;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;

/** Builds the configured {@code kv} command line, the same for {@link Main} and for tests. */
final class Cli {

  private Cli() {}

  /** In the order that {@code kv --help} lists them. */
  static final List<Class<?>> COMMANDS =
      List.of(
          GetCommand.class,
          SetCommand.class,
          DelCommand.class,
          ListCommand.class,
          WatchCommand.class,
          StatusCommand.class,
          ExportCommand.class,
          ImportCommand.class,
          SnapshotCommand.class,
          BenchCommand.class,
          CompletionCommand.class,
          HelpCommand.class);

  /**
   * The command line that runs {@code args}. Building a subcommand's model takes picocli tens of
   * milliseconds, a large part of a short command's run: only the subcommands that {@code args}
   * name are built, or all of them for the commands that show them (help, completion) and for
   * arguments that name none (usage, errors, suggestions).
   */
  static CommandLine commandLine(String... args) {
    List<String> words = List.of(args);
    List<Class<?>> named =
        COMMANDS.stream().filter(command -> words.contains(nameOf(command))).toList();
    boolean showsAll =
        named.isEmpty()
            || named.contains(HelpCommand.class)
            || named.contains(CompletionCommand.class);
    KvCommand kv = new KvCommand();
    CommandSpec spec = CommandSpec.forAnnotatedObject(kv);
    for (Class<?> command : showsAll ? COMMANDS : named) {
      spec.addSubcommand(null, new CommandLine(command));
    }
    // Subcommands first: the settings below reach those that are there.
    CommandLine commandLine = CommandLines.create(spec, new Failures(kv));
    HelpLayout.apply(commandLine);
    commandLine.setExecutionStrategy(
        parseResult -> {
          try (kv) {
            return new CommandLine.RunLast().execute(parseResult);
          }
        });
    return commandLine;
  }

  /** The commands that work on a store, for a person: "get, set, ... or bench". */
  static String storeCommandNames() {
    List<String> names =
        COMMANDS.stream()
            .filter(command -> command != CompletionCommand.class && command != HelpCommand.class)
            .map(Cli::nameOf)
            .toList();
    return String.join(", ", names.subList(0, names.size() - 1))
        + " or "
        + names.get(names.size() - 1);
  }

  private static String nameOf(Class<?> command) {
    return command.getAnnotation(Command.class).name();
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
