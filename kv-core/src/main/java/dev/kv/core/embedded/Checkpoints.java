package dev.kv.core.embedded;

import dev.kv.core.KvException;
import dev.kv.core.SnapshotInfo;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.Logger;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * Snapshots of an open database, as RocksDB's checkpoints: its table files hard-linked (so made on
 * the data directory's own file system, in its {@code checkpoints/}), its small files copied, taken
 * while it serves reads and writes. A checkpoint lives until its files are written out as a {@link
 * SnapshotFile}; one that a crash left behind is deleted at the next open.
 */
final class Checkpoints {

  /** Where checkpoints are made, in the data directory. */
  static final String DIRECTORY = "checkpoints";

  private static final AtomicLong taken = new AtomicLong();

  /** What a database holds, as read from a closed one. */
  record Contents(long revision, long keys) {}

  private Checkpoints() {}

  /** Makes a checkpoint of the database of {@code dir}, and gives its directory. */
  static Path take(Path dir, Database database) {
    Path checkpoint =
        dir.resolve(DIRECTORY)
            .resolve(ProcessHandle.current().pid() + "-" + taken.incrementAndGet());
    try {
      Files.createDirectories(checkpoint.getParent());
      try (Checkpoint checkpoints = Checkpoint.create(database.db)) {
        checkpoints.createCheckpoint(checkpoint.toString());
      }
      return checkpoint;
    } catch (IOException | RocksDBException e) {
      delete(checkpoint);
      throw new KvException(
          KvException.Code.UNAVAILABLE,
          "cannot take a snapshot of the data directory " + dir + ": " + describe(e),
          e);
    }
  }

  /**
   * Writes {@code checkpoint} to {@code out} as a snapshot file at the revision the checkpoint
   * itself holds, then deletes it.
   */
  static SnapshotInfo write(Path checkpoint, OutputStream out) {
    try {
      long revision = contents(checkpoint, false).revision();
      long bytes = SnapshotFile.write(checkpoint, revision, out);
      return new SnapshotInfo(SnapshotInfo.EMBEDDED, revision, bytes);
    } catch (IOException e) {
      throw new KvException(
          KvException.Code.UNAVAILABLE, "cannot write the snapshot: " + describe(e), e);
    } finally {
      delete(checkpoint);
    }
  }

  /**
   * Reads the revision of the database in {@code location}, which must be whole, without writing to
   * it; with {@code verify}, also checks the checksums of all its files and counts its keys.
   */
  static Contents contents(Path location, boolean verify) {
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DatabaseOptions settings = new DatabaseOptions(false);
        Logger silent = new Integrity.Silent()) {
      settings.options.setLogger(silent);
      try (RocksDB db =
          RocksDB.openReadOnly(
              settings.options, location.toString(), settings.descriptors(), handles)) {
        try {
          long revision = Records.number(db.get(handles.get(0), Records.REVISION_KEY));
          long keys = 0;
          if (verify) {
            db.verifyChecksum();
            try (RocksIterator entries = db.newIterator(handles.get(1))) {
              for (entries.seekToFirst(); entries.isValid(); entries.next()) {
                keys++;
              }
              entries.status();
            }
          }
          return new Contents(revision, keys);
        } finally {
          handles.forEach(ColumnFamilyHandle::close);
        }
      }
    } catch (RocksDBException e) {
      throw new KvException(
          KvException.Code.DATA_LOSS,
          "the database in " + location + " cannot be read: " + e.getMessage(),
          e);
    }
  }

  /** Deletes the checkpoints of {@code dir}: at open, those a crash left. */
  static void deleteAll(Path dir) throws IOException {
    DataDirectory.deleteRecursively(dir.resolve(DIRECTORY));
  }

  private static void delete(Path checkpoint) {
    try {
      DataDirectory.deleteRecursively(checkpoint);
    } catch (IOException ignored) {
      // Deleted at the next open.
    }
  }

  private static String describe(Exception e) {
    return e instanceof IOException io ? Refusal.describe(io) : e.getMessage();
  }
}
