package dev.kv.core.embedded;

import dev.kv.core.KvException;
import dev.kv.core.SnapshotInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Snapshots of the embedded store's data directories, and their restore. A snapshot of a running
 * store is {@link EmbeddedStore#snapshot}; {@link #save} takes one of a directory no process has
 * open. The file's layout, and how it is checked, is in {@link SnapshotFile}.
 */
public final class EmbeddedSnapshots {

  private EmbeddedSnapshots() {}

  /**
   * What a restore did.
   *
   * @param revision the revision of the restored store
   * @param keys how many keys it holds
   * @param bytes the size of the snapshot file read
   * @param replaced where the database the restore replaced was moved, when forced over one
   */
  public record Restored(long revision, long keys, long bytes, Optional<Path> replaced) {}

  /**
   * Writes a snapshot of the data directory {@code dataDir}, which no process may have open, to
   * {@code out}, and flushes it.
   *
   * @throws KvException with {@link KvException.Code#FAILED_PRECONDITION} when the directory is in
   *     use (the message says to take the snapshot through the process that has it open), holds no
   *     data, or cannot be opened; with the error of {@code out} when writing to it fails
   */
  public static SnapshotInfo save(Path dataDir, OutputStream out) {
    Path dir = dataDir.toAbsolutePath().normalize();
    if (!Files.isDirectory(DataDirectory.database(dir))) {
      throw Refusal.of(dir, "it holds no kv data");
    }
    RocksDbLibrary.require();
    DataDirectory opened;
    try {
      opened = DataDirectory.open(dir, false);
    } catch (KvException e) {
      if (Refusal.inUse(e)) {
        throw new KvException(
            KvException.Code.FAILED_PRECONDITION,
            "the data directory "
                + dir
                + " is in use, by a running kv-server or another process; take the snapshot"
                + " through it (kv snapshot save FILE)",
            e);
      }
      throw e;
    }
    Path checkpoint;
    try (opened) {
      checkpoint = Checkpoints.take(dir, opened.database());
    }
    return Checkpoints.write(checkpoint, out);
  }

  /**
   * Checks that {@code in} is a whole snapshot, every checksum read and compared, keeping nothing:
   * for a file just saved, before it is trusted as a backup.
   *
   * @return what the snapshot holds
   * @throws KvException with {@link KvException.Code#INVALID_ARGUMENT} and a message that says why
   *     when it is not a whole snapshot (cut short, damaged, another format)
   * @throws IOException when reading {@code in} fails
   */
  public static SnapshotInfo check(InputStream in) throws IOException {
    SnapshotFile.Read read = SnapshotFile.check(in);
    return new SnapshotInfo(SnapshotInfo.EMBEDDED, read.revision(), read.bytes());
  }

  /**
   * Restores a snapshot, read from {@code in}, into the data directory {@code dataDir}. The file is
   * read into a new directory beside {@code dataDir}, every checksum checked and the database
   * opened read-only and verified there, and only then moved into place: a snapshot that fails
   * leaves {@code dataDir} as it was, and creates no directory.
   *
   * @param force restore into a data directory that holds data: its database is moved aside, into
   *     {@code replaced/TIME/db}, never deleted
   * @throws KvException with {@link KvException.Code#INVALID_ARGUMENT} and a message that says why
   *     when the file is not a whole snapshot (cut short, damaged, another format) or {@code
   *     dataDir} cannot take it (a file, another program's directory, or, without {@code force},
   *     one that holds data); with {@link KvException.Code#FAILED_PRECONDITION} when {@code
   *     dataDir} is in use; with {@link KvException.Code#UNAVAILABLE} when reading or writing files
   *     fails
   */
  public static Restored restore(InputStream in, Path dataDir, boolean force) {
    Path dir = dataDir.toAbsolutePath().normalize();
    RocksDbLibrary.require();
    Path work = null;
    try {
      DataDirectory.checkRestorable(dir, force);
      work =
          Files.createTempDirectory(existingAncestor(dir), "." + dir.getFileName() + ".restore-");
      Path database = Files.createDirectory(DataDirectory.database(work));
      SnapshotFile.Read read = SnapshotFile.read(in, database);
      Integrity.check(work);
      Checkpoints.Contents contents = Checkpoints.contents(database, true);
      if (contents.revision() != read.revision()) {
        throw new KvException(
            KvException.Code.INVALID_ARGUMENT,
            "the snapshot is damaged: its header says revision "
                + read.revision()
                + ", its database holds "
                + contents.revision());
      }
      Optional<Path> replaced = DataDirectory.install(dir, database, force);
      return new Restored(contents.revision(), contents.keys(), read.bytes(), replaced);
    } catch (IOException e) {
      throw new KvException(
          KvException.Code.UNAVAILABLE,
          "cannot restore into the data directory " + dir + ": " + Refusal.describe(e),
          e);
    } finally {
      if (work != null) {
        try {
          DataDirectory.deleteRecursively(work);
        } catch (IOException ignored) {
          // Named for what it is, beside the directory, for whoever looks.
        }
      }
    }
  }

  /** The nearest directory that holds {@code dir} and exists: where nothing new need be made. */
  private static Path existingAncestor(Path dir) {
    Path parent = dir.getParent();
    while (parent != null && !Files.isDirectory(parent)) {
      parent = parent.getParent();
    }
    if (parent == null) {
      throw new KvException(
          KvException.Code.INVALID_ARGUMENT, "the data directory " + dir + " has no parent");
    }
    return parent;
  }
}
