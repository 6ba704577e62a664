package dev.kv.cli;

import com.google.gson.JsonObject;
import dev.kv.core.KvException;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.embedded.EmbeddedSnapshots;
import dev.kv.launch.CommandLines;
import dev.kv.launch.FileErrors;
import dev.kv.launch.WholeFile;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "snapshot",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    description = {"Snapshots of the whole store: see 'kv snapshot save --help'."},
    subcommands = SnapshotCommand.Save.class)
final class SnapshotCommand implements Runnable {

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command: save");
  }

  @Command(
      name = "save",
      mixinStandardHelpOptions = true,
      versionProvider = KvCommand.Version.class,
      description = {
        "Saves a snapshot of the whole store to FILE, taken while it keeps serving: through "
            + "kv-server, whose store must be etcd or the embedded store, or straight from etcd "
            + "with --etcd-endpoints. The file of etcd is etcd's own database, which 'etcdctl "
            + "snapshot restore' reads; that of the embedded store is read by 'kv-server "
            + "restore'.",
        "",
        "The snapshot is written to FILE.part, and renamed FILE once whole: a failed or "
            + "interrupted save leaves no FILE."
      },
      footer = {
        "",
        "Exits 2 when FILE exists (--force replaces it); 3 on the memory store, which takes no "
            + "snapshot ('kv export' saves its keys), and when the store or the file fails."
      })
  static final class Save implements Callable<Integer> {

    @ParentCommand SnapshotCommand snapshot;
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "Where to save the snapshot.")
    Path file;

    @Option(names = "--force", description = "Replace FILE if it exists.")
    boolean force;

    @Override
    public Integer call() {
      KvCommand kv = snapshot.kv;
      if (Files.exists(file) && !force) {
        throw CommandLines.usageError(spec, file + " exists; --force replaces it");
      }
      SnapshotInfo info;
      try {
        info = WholeFile.write(file, out -> save(out, kv), Save::checkWhole);
      } catch (KvException e) {
        if (e.code() == KvException.Code.FAILED_PRECONDITION) {
          // The store has no snapshot: not a value that is not text, as the code means elsewhere.
          return kv.output.failure(
              spec.commandLine().getErr(), e.getMessage(), e.code().name(), ExitCodes.FAILED);
        }
        throw e;
      } catch (IOException | UncheckedIOException e) {
        IOException failed = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
        return kv.output.failure(
            spec.commandLine().getErr(),
            "cannot write " + file + ": " + FileErrors.describe(failed),
            Output.UNEXPECTED,
            ExitCodes.FAILED);
      }
      print(kv, info);
      return ExitCodes.OK;
    }

    /**
     * Reads a kv-server's embedded snapshot back, every checksum compared, before it is trusted as
     * a backup: no one checked it on its way (etcd's is checked as it passes).
     */
    private static void checkWhole(Path written, SnapshotInfo info) throws IOException {
      if (!info.format().equals(SnapshotInfo.EMBEDDED)) {
        return;
      }
      try (InputStream in = new BufferedInputStream(Files.newInputStream(written), 1 << 16)) {
        EmbeddedSnapshots.check(in);
      } catch (KvException damaged) {
        throw new IOException(
            "what kv-server sent is not a whole snapshot (" + damaged.getMessage() + ")", damaged);
      }
    }

    /** Writes the store's snapshot to {@code out}; a failure to write fails as it did. */
    private static SnapshotInfo save(OutputStream out, KvCommand kv) throws IOException {
      try {
        return kv.store().blocking().snapshot(out);
      } catch (KvException e) {
        if (e.getCause() instanceof IOException writing) {
          throw writing;
        }
        throw e;
      }
    }

    private void print(KvCommand kv, SnapshotInfo info) {
      if (kv.output == Output.json) {
        JsonObject object = new JsonObject();
        object.addProperty("file", file.toString());
        object.addProperty("format", info.format());
        object.addProperty("revision", info.revision());
        object.addProperty("bytes", info.bytes());
        Output.print(spec.commandLine().getOut(), object);
        return;
      }
      spec.commandLine()
          .getOut()
          .printf(
              "saved a snapshot of %s at revision %d (%d bytes, format %s) to %s%n%s%n",
              kv.where(), info.revision(), info.bytes(), info.format(), file, restore(info));
    }

    private String restore(SnapshotInfo info) {
      return switch (info.format()) {
        case SnapshotInfo.ETCD ->
            "restore it with: etcdctl snapshot restore "
                + file
                + " --data-dir NEW_DIR (each member of a cluster: see etcd's disaster recovery"
                + " guide)";
        case SnapshotInfo.EMBEDDED ->
            "restore it with: kv-server restore " + file + " --data-dir NEW_DIR";
        default -> "its format is " + info.format();
      };
    }
  }
}
