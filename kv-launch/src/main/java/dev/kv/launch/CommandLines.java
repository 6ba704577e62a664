package dev.kv.launch;

import dev.kv.core.config.Durations;
import dev.kv.core.config.HostPort;
import dev.kv.core.etcd.EtcdEndpoints;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.TypeConversionException;

/**
 * The one way {@code kv} and {@code kv-server} build their command lines: how options read their
 * values, and how a mistake or a failure reaches the user, in one line and an exit code.
 */
public final class CommandLines {

  /**
   * How a program reports what went wrong; each method prints one line and returns the exit code.
   */
  public interface Failures {

    /** A mistake in the options or arguments, {@code message} saying which. */
    int usage(CommandLine command, String message);

    /** The command ran and failed. */
    int failed(CommandLine command, Exception error);
  }

  private CommandLines() {}

  /**
   * The command line of {@code command}, its subcommands included, reporting through {@code
   * failures}.
   */
  public static CommandLine create(Object command, Failures failures) {
    CommandLine commandLine = new CommandLine(command);
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.registerConverter(HostPort.class, text -> parse(HostPort::parse, text));
    commandLine.registerConverter(Duration.class, text -> parse(Durations::parse, text));
    commandLine.registerConverter(EtcdEndpoints.class, text -> parse(EtcdEndpoints::parse, text));
    commandLine.setParameterExceptionHandler(
        (error, args) -> failures.usage(error.getCommandLine(), message(error)));
    commandLine.setExecutionExceptionHandler(
        (error, failing, parseResult) -> failures.failed(failing, error));
    return commandLine;
  }

  /** Runs {@code step}, reporting a mistake in the options it reads as a usage error. */
  public static <T> T usage(CommandSpec spec, Supplier<T> step) {
    try {
      return step.get();
    } catch (IllegalArgumentException e) {
      throw usageError(spec, e.getMessage());
    }
  }

  /** A usage error of {@code spec}'s command, which the program reports with its exit code. */
  public static ParameterException usageError(CommandSpec spec, String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /**
   * Whether {@code option} was on the command line, before or after a subcommand's name (an
   * inherited option belongs to the subcommand it follows).
   */
  public static boolean given(CommandSpec spec, String option) {
    for (ParseResult parsed = spec.root().commandLine().getParseResult();
        parsed != null;
        parsed = parsed.subcommand()) {
      if (parsed.hasMatchedOption(option)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the environment variable {@code name} holds a value. */
  public static boolean given(String name) {
    String value = System.getenv(name);
    return value != null && !value.isEmpty();
  }

  private static String message(ParameterException error) {
    // The values of unknown options are left out: a mistyped one may well be a secret.
    return error instanceof CommandLine.UnmatchedArgumentException unmatched
        ? UnknownArguments.describe(unmatched.getUnmatched())
        : error.getMessage();
  }

  /** Reads an option's text with {@code parser}, reporting its message as picocli's own. */
  private static <T> T parse(Function<String, T> parser, String text) {
    try {
      return parser.apply(text);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
