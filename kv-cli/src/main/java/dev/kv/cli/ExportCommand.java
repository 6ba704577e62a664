package dev.kv.cli;

import dev.kv.core.backup.Exporter;
import dev.kv.launch.FileErrors;
import dev.kv.launch.WholeFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    description = {
      "Writes every key (those that start with PREFIX, when given) to FILE or standard output, "
          + "as JSON lines that 'kv import' writes to any store: a header naming the store and "
          + "the revision, one line per key in key order with its value, revisions and remaining "
          + "time to live, and a trailer with the count and a SHA-256 checksum.",
      "Every key is read at one revision, the store's when the export starts, a page at a time: "
          + "writes made meanwhile are not in the file, and a million keys take no more memory "
          + "than a page. A value that another etcd client wrote and that is not UTF-8 text is "
          + "written as value_base64 (and 'kv import' refuses it).",
      "With -f, the file appears only once it is whole (it is written as FILE.part, then "
          + "renamed). A progress line shows on a terminal; at the end, one line on standard "
          + "error says how many keys were exported at which revision."
    })
final class ExportCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(
      paramLabel = "PREFIX",
      arity = "0..1",
      defaultValue = "",
      description = "Export only the keys that start with it.")
  String prefix;

  @Option(
      names = {"-f", "--file"},
      paramLabel = "FILE",
      description = "Write to FILE rather than standard output.")
  Path file;

  @Override
  public Integer call() throws IOException {
    PrintWriter err = spec.commandLine().getErr();
    ProgressLine progress = ProgressLine.onTerminal(err, "exported");
    Exporter exporter =
        Exporter.of(kv.store()).prefix(prefix).source(kv.where()).progress(progress::update);
    Exporter.Result result;
    try {
      result =
          file == null ? writeToStandardOutput(exporter) : WholeFile.write(file, exporter::writeTo);
    } catch (IOException e) {
      progress.end();
      String to = file == null ? "standard output" : file.toString();
      return kv.output.failure(
          err,
          "cannot write " + to + ": " + FileErrors.describe(e),
          Output.UNEXPECTED,
          ExitCodes.FAILED);
    }
    progress.end();
    err.printf(
        "exported %d keys at revision %d to %s%n",
        result.count(), result.revision(), file == null ? "standard output" : file);
    return ExitCodes.OK;
  }

  /** To standard output as bytes, UTF-8 whatever the locale; a closed pipe is a failure. */
  private static Exporter.Result writeToStandardOutput(Exporter exporter) throws IOException {
    Exporter.Result result = exporter.writeTo(System.out);
    if (System.out.checkError()) {
      throw new IOException("the output was closed before the export ended");
    }
    return result;
  }
}
