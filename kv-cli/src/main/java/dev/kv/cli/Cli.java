package dev.kv.cli;

import dev.kv.core.KvException;
import dev.kv.core.config.Durations;
import dev.kv.core.config.HostPort;
import dev.kv.core.config.UnknownArguments;
import dev.kv.core.etcd.EtcdEndpoints;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.TypeConversionException;

/** Builds the configured {@code kv} command line, the same for {@link Main} and for tests. */
final class Cli {

  private Cli() {}

  static CommandLine commandLine() {
    KvCommand kv = new KvCommand();
    CommandLine commandLine = new CommandLine(kv);
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.registerConverter(HostPort.class, text -> parse(HostPort::parse, text));
    commandLine.registerConverter(Duration.class, text -> parse(Durations::parse, text));
    commandLine.registerConverter(EtcdEndpoints.class, text -> parse(EtcdEndpoints::parse, text));
    HelpLayout.apply(commandLine);
    commandLine.setParameterExceptionHandler(
        (error, args) -> {
          String message =
              error instanceof CommandLine.UnmatchedArgumentException unmatched
                  ? UnknownArguments.describe(unmatched.getUnmatched())
                  : error.getMessage();
          if (kv.output == Output.text) {
            message +=
                " (see '" + error.getCommandLine().getCommandSpec().qualifiedName() + " --help')";
          }
          return kv.output.failure(
              error.getCommandLine().getErr(), message, Output.USAGE_ERROR, ExitCodes.USAGE);
        });
    commandLine.setExecutionExceptionHandler(
        (error, cmd, parseResult) -> {
          PrintWriter err = cmd.getErr();
          if (kv.verbose) {
            error.printStackTrace(err);
          }
          if (error instanceof KvException kvError) {
            return kv.output.failure(
                err, kvError.getMessage(), kvError.code().name(), ExitCodes.of(kvError));
          }
          return kv.output.failure(
              err, "unexpected error: " + error, Output.UNEXPECTED, ExitCodes.FAILED);
        });
    commandLine.setExecutionStrategy(
        parseResult -> {
          try (kv) {
            return new CommandLine.RunLast().execute(parseResult);
          }
        });
    return commandLine;
  }

  private static <T> T parse(Function<String, T> parser, String text) {
    try {
      return parser.apply(text);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
