package dev.kv.cli;

import dev.kv.core.backup.ExportFile;
import dev.kv.core.backup.ExportFileException;
import dev.kv.core.backup.ImportConflictException;
import dev.kv.core.backup.Importer;
import dev.kv.launch.FileErrors;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "import",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    description = {
      "Writes the keys of a 'kv export' file (FILE, or standard input) to the store, many at "
          + "once, each with the time to live it had left when exported; the store gives them "
          + "revisions of its own.",
      "The file is checked whole before anything is written: its header, every line, the count "
          + "and the SHA-256 checksum of its trailer. A damaged, truncated or foreign file is "
          + "refused (exit 2) and the store is untouched; --force imports one whose count or "
          + "checksum does not match. A value that is not UTF-8 text (value_base64, written by "
          + "another etcd client) cannot be written: such a file is refused, naming the key.",
      "If a write fails, the import stops, naming the key and how many keys were written: "
          + "import the file again with --on-conflict overwrite."
    })
final class ImportCommand implements Callable<Integer> {

  /** What to do with a key that the store holds already. */
  enum OnConflict {
    overwrite,
    skip,
    fail
  }

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Option(
      names = {"-f", "--file"},
      paramLabel = "FILE",
      description = "Read FILE rather than standard input.")
  Path file;

  @Option(
      names = "--on-conflict",
      paramLabel = "MODE",
      defaultValue = "fail",
      description = {
        "For keys of the file that the store holds: fail (import nothing if there is any; "
            + "checked first), skip (keep the store's; counted) or overwrite. "
            + "Default: ${DEFAULT-VALUE}."
      })
  OnConflict onConflict;

  @Option(
      names = "--force",
      description =
          "Import a file whose count or checksum does not match its lines, or that has no "
              + "trailer (lines that do not parse are still refused).")
  boolean force;

  @Override
  public Integer call() throws IOException {
    Path spooled = file == null ? spoolStandardInput() : null;
    try {
      return importFile(file == null ? spooled : file, file == null ? "standard input" : file);
    } finally {
      if (spooled != null) {
        Files.deleteIfExists(spooled);
      }
    }
  }

  private int importFile(Path path, Object name) throws IOException {
    PrintWriter err = spec.commandLine().getErr();
    ExportFile checked;
    try {
      checked = ExportFile.check(path, name.toString(), force);
    } catch (ExportFileException e) {
      String message = e.getMessage() + (e.forceable() ? "; --force imports it anyway" : "");
      return kv.output.failure(err, message, e.code().name(), ExitCodes.USAGE);
    } catch (IOException e) {
      return kv.output.failure(
          err,
          "cannot read " + name + ": " + FileErrors.describe(e),
          Output.USAGE_ERROR,
          ExitCodes.USAGE);
    }
    checked
        .mismatch()
        .ifPresent(
            mismatch -> kv.output.warning(err, name + " " + mismatch + "; imported (--force)"));
    Importer.Result result;
    try {
      result =
          Importer.into(kv.store())
              .target(kv.where())
              .onConflict(Importer.OnConflict.valueOf(onConflict.name().toUpperCase(Locale.ROOT)))
              .write(checked);
    } catch (ImportConflictException e) {
      return kv.output.failure(
          err,
          e.getMessage() + " (--on-conflict skip or overwrite imports it)",
          Output.CONDITION_FAILED,
          ExitCodes.CONDITION_FAILED);
    } catch (IOException e) {
      // Read once more to write it: a file taken away or changed since it was checked.
      return kv.output.failure(
          err,
          "cannot read " + name + " again to write it: " + FileErrors.describe(e),
          Output.UNEXPECTED,
          ExitCodes.FAILED);
    }
    spec.commandLine()
        .getOut()
        .printf(
            "imported %d keys (%d skipped) into %s in %.1f s%n",
            result.written(), result.skipped(), kv.where(), result.took().toMillis() / 1000.0);
    return ExitCodes.OK;
  }

  /** Standard input in a file of its own: it is checked whole before anything is written. */
  private static Path spoolStandardInput() throws IOException {
    Path spooled = Files.createTempFile("kv-import-", ".jsonl");
    try {
      Files.copy(System.in, spooled, StandardCopyOption.REPLACE_EXISTING);
      return spooled;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(spooled);
      throw e;
    }
  }
}
