package dev.kv.cli;

import com.google.gson.JsonObject;
import dev.kv.core.Swap;
import dev.kv.core.Ttl;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "set",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    description = {
      "Stores VALUE under KEY, replacing any previous value. Prints nothing on success; with "
          + "-o json, the revision the write created.",
      "With --if-absent or --if-revision, writes only if the condition holds (compare-and-set); "
          + "otherwise exits 1 and says what the key holds now."
    })
final class SetCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key to write.")
  String key;

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "VALUE",
      description = "The value to store; may be empty. Or use --file.")
  String value;

  @Option(
      names = "--file",
      paramLabel = "PATH",
      description =
          "Store the contents of PATH (UTF-8 text) instead of VALUE; - reads standard input.")
  String file;

  @Option(
      names = "--ttl",
      paramLabel = "DURATION",
      converter = TimeToLive.class,
      description =
          "Delete the key this long after the write: seconds (30), or a duration such as 30s or "
              + "10m (whole seconds).")
  Duration ttl;

  @ArgGroup(exclusive = true)
  Condition condition;

  static final class Condition {
    @Option(names = "--if-absent", description = "Write only if KEY does not exist yet.")
    boolean ifAbsent;

    @Option(
        names = "--if-revision",
        paramLabel = "N",
        description = "Write only if KEY's modRevision is N (see get -o json).")
    Long ifRevision;

    long expected() {
      return ifAbsent ? Swap.ABSENT : ifRevision;
    }

    boolean valid() {
      return ifAbsent || ifRevision >= 1;
    }
  }

  @Override
  public Integer call() throws IOException {
    String content = content();
    Duration timeToLive = ttl == null ? Ttl.NONE : ttl;
    JsonObject result = new JsonObject();
    result.addProperty("key", key);
    if (condition != null && !condition.valid()) {
      throw new ParameterException(
          spec.commandLine(), "--if-revision takes a revision of at least 1; see --if-absent");
    }
    if (condition == null) {
      result.addProperty("revision", kv.store().blocking().set(key, content, timeToLive));
    } else {
      Swap swap = kv.store().blocking().setIf(key, content, condition.expected(), timeToLive);
      if (!swap.applied()) {
        return Conditions.refused(kv, spec, "not set", key, condition.expected(), swap);
      }
      result.addProperty("revision", swap.revision());
    }
    if (kv.output == Output.json) {
      Output.print(spec.commandLine().getOut(), result);
    }
    return ExitCodes.OK;
  }

  /** VALUE, or what --file names, as text. */
  private String content() throws IOException {
    if ((value == null) == (file == null)) {
      throw new ParameterException(spec.commandLine(), "give either VALUE or --file PATH");
    }
    if (value != null) {
      return value;
    }
    if (Files.isDirectory(Path.of(file))) {
      throw new ParameterException(spec.commandLine(), file + " is a directory, not a file");
    }
    byte[] bytes;
    try {
      bytes = file.equals("-") ? System.in.readAllBytes() : Files.readAllBytes(Path.of(file));
    } catch (NoSuchFileException e) {
      throw new ParameterException(spec.commandLine(), "no such file: " + file);
    } catch (AccessDeniedException e) {
      throw new ParameterException(
          spec.commandLine(), "cannot read " + file + ": permission denied");
    } catch (IOException e) {
      throw new ParameterException(
          spec.commandLine(), "cannot read " + file + ": " + e.getMessage());
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new ParameterException(
          spec.commandLine(),
          (file.equals("-") ? "standard input" : file) + " is not UTF-8 text; kv stores text");
    }
  }
}
