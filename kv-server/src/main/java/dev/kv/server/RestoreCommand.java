package dev.kv.server;

import dev.kv.core.KvException;
import dev.kv.core.embedded.EmbeddedSnapshots;
import dev.kv.launch.FileErrors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kv-server restore}: a data directory from a snapshot, checked before it is used. */
@Command(
    name = "restore",
    mixinStandardHelpOptions = true,
    description = {
      "Restores a snapshot (from 'kv-server snapshot' or 'kv snapshot save') into --data-dir. "
          + "Every checksum is checked, and the database opened once, beside the directory "
          + "before anything is moved into it: a damaged or truncated FILE leaves it untouched. "
          + "A directory that holds data is refused unless --force is given.",
      ""
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:restored",
      "1:it failed (for example, the directory is in use, or FILE cannot be read)",
      "2:invalid option; FILE is damaged, truncated or not a snapshot; or the directory "
          + "holds data and --force is not given"
    })
final class RestoreCommand implements Callable<Integer> {

  @Parameters(paramLabel = "FILE", description = "The snapshot to restore.")
  Path file;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      required = true,
      description =
          "The data directory to restore into: new, empty, or (with --force) one to replace.")
  Path dataDir;

  @Option(
      names = "--force",
      description =
          "Restore into a data directory that holds data: its database is moved aside, into "
              + "DIR/replaced/TIME/db, never deleted.")
  boolean force;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    long start = System.nanoTime();
    EmbeddedSnapshots.Restored restored;
    try (InputStream in = Files.newInputStream(file)) {
      restored = EmbeddedSnapshots.restore(in, dataDir, force);
    } catch (IOException e) {
      throw new IOException("cannot restore " + file + ": " + FileErrors.describe(e), e);
    } catch (KvException e) {
      if (e.code() == KvException.Code.INVALID_ARGUMENT) {
        return Figures.refuse(spec, "cannot restore " + file + ": " + e.getMessage());
      }
      throw new KvException(e.code(), "cannot restore " + file + ": " + e.getMessage(), e);
    }
    spec.commandLine()
        .getOut()
        .println(
            "restored "
                + file
                + " into "
                + dataDir
                + ": revision "
                + restored.revision()
                + ", "
                + restored.keys()
                + " keys, "
                + Figures.sizeAndTime(restored.bytes(), start)
                + restored
                    .replaced()
                    .map(kept -> "; the data it held is kept in " + kept)
                    .orElse(""));
    return 0;
  }
}
