package dev.kv.server;

import dev.kv.core.SnapshotInfo;
import dev.kv.core.embedded.EmbeddedSnapshots;
import dev.kv.launch.FileErrors;
import dev.kv.launch.WholeFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kv-server snapshot}: a snapshot of a data directory no server has open. */
@Command(
    name = "snapshot",
    mixinStandardHelpOptions = true,
    description = {
      "Writes a snapshot of the embedded store in --data-dir, which no kv-server may have open, "
          + "to FILE: written as FILE.part, renamed once whole. For a running kv-server, use "
          + "'kv snapshot save FILE' instead. 'kv-server restore' reads it back.",
      ""
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:the snapshot is written",
      "1:it failed (for example, the directory is in use or holds no data)",
      "2:invalid option, or FILE exists"
    })
final class SnapshotCommand implements Callable<Integer> {

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      defaultValue = "${env:KV_DATA_DIR:-kv-data}",
      description = {
        "The data directory to take the snapshot of.",
        "Env: KV_DATA_DIR. Default: ${DEFAULT-VALUE}, in the working directory."
      })
  Path dataDir;

  @Parameters(paramLabel = "FILE", description = "Where to write the snapshot; must not exist.")
  Path file;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (Files.exists(file)) {
      return Figures.refuse(spec, "cannot write the snapshot to " + file + ": it exists");
    }
    long start = System.nanoTime();
    SnapshotInfo written;
    try {
      written = WholeFile.write(file, out -> EmbeddedSnapshots.save(dataDir, out));
    } catch (IOException e) {
      throw new IOException(
          "cannot write the snapshot to " + file + ": " + FileErrors.describe(e), e);
    }
    spec.commandLine()
        .getOut()
        .println(
            "wrote a snapshot of "
                + dataDir
                + " to "
                + file
                + ": revision "
                + written.revision()
                + ", "
                + Figures.sizeAndTime(written.bytes(), start));
    return 0;
  }
}
