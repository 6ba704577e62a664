package dev.kv.core.embedded;

import dev.kv.core.KvException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.Logger;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;

/**
 * The checks a data directory's database passes before it is opened for writing, and what their
 * failures mean for the user: damage is refused with a message that says what to do, never opened
 * into a store that silently lost writes.
 */
final class Integrity {

  private Integrity() {}

  /**
   * Checks the database of {@code dir} without writing to it: the end of its write-ahead logs, its
   * column families, that it opens (read-only, logging nowhere) and its format.
   */
  static void check(Path dir) {
    Optional<String> logDamage = logDamage(dir);
    if (logDamage.isPresent()) {
      throw logRefused(dir, logDamage.get());
    }
    check(dir, false);
  }

  /**
   * Checks the database of {@code dir} as {@link #check(Path)} does, with salvage settings or not.
   */
  static void check(Path dir, boolean salvage) {
    String location = DataDirectory.database(dir).toString();
    try {
      List<String> found;
      try (Options options = new Options()) {
        found = RocksDB.listColumnFamilies(options, location).stream().map(Records::utf8).toList();
      }
      List<String> expected = new ArrayList<>(DatabaseOptions.FAMILIES);
      expected.add(Records.utf8(RocksDB.DEFAULT_COLUMN_FAMILY));
      if (!found.isEmpty() && !Set.copyOf(found).equals(Set.copyOf(expected))) {
        throw Refusal.of(dir, "its database is not a kv store's (it holds " + found + ")");
      }
      try (DatabaseOptions settings = new DatabaseOptions(salvage);
          Logger silent = new Silent()) {
        settings.options.setLogger(silent);
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (RocksDB db =
            RocksDB.openReadOnly(settings.options, location, settings.descriptors(), handles)) {
          try {
            checkFormat(dir, db.get(handles.get(0), Records.FORMAT_KEY));
          } finally {
            handles.forEach(ColumnFamilyHandle::close);
          }
        }
      }
    } catch (RocksDBException e) {
      throw salvage
          ? Refusal.of(dir, "even a salvage cannot open it (" + e.getMessage() + ")")
          : openFailure(dir, e);
    }
  }

  private static void checkFormat(Path dir, byte[] format) {
    if (format == null || !Records.FORMAT.equals(Records.utf8(format))) {
      throw Refusal.of(
          dir,
          format == null
              ? "its database is not a kv store's"
              : "it was written in another format ('"
                  + Records.utf8(format)
                  + "'), by another version of kv");
    }
  }

  /**
   * Damage in the last block of a write-ahead log of {@code dir} that RocksDB would take for a torn
   * write, dropping the acknowledged writes after it; see {@link WriteAheadLog}.
   */
  private static Optional<String> logDamage(Path dir) {
    try {
      for (Path log : logs(dir)) {
        Optional<String> damage = WriteAheadLog.lastBlockOf(log).damage();
        if (damage.isPresent()) {
          return damage;
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      throw Refusal.of(dir, Refusal.describe(e));
    }
  }

  /** The write-ahead log files of the database of {@code dir}, oldest first. */
  static List<Path> logs(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(DataDirectory.database(dir))) {
      return files.filter(file -> file.getFileName().toString().endsWith(".log")).sorted().toList();
    }
  }

  /** What a failure to open the database means for the user. */
  static KvException openFailure(Path dir, RocksDBException e) {
    Status status = e.getStatus();
    String detail = e.getMessage();
    if (status != null && status.getCode() == Status.Code.Corruption
        || detail.contains("does not exist")
        || detail.contains("No such file")) {
      if (salvageable(dir)) {
        return logRefused(dir, detail);
      }
      return Refusal.of(
          dir,
          "it is damaged ("
              + detail
              + "); restore it from a backup, or move it away to start with an empty store");
    }
    if (detail.contains("Column famil")) {
      return Refusal.of(dir, "its database is not a kv store's (" + detail + ")");
    }
    if (detail.contains("While lock file")) {
      return Refusal.inUse(dir);
    }
    return Refusal.of(dir, detail);
  }

  /** Whether a salvage would open {@code dir}: then what failed is in the write-ahead log. */
  private static boolean salvageable(Path dir) {
    try {
      check(dir, true);
      return true;
    } catch (KvException e) {
      return false;
    }
  }

  private static KvException logRefused(Path dir, String damage) {
    return new KvException(
        KvException.Code.FAILED_PRECONDITION,
        "cannot open the data directory "
            + dir
            + ": its write-ahead log is damaged ("
            + damage
            + "), and opening it would lose acknowledged writes; restore the directory from a"
            + " backup, or open what can be read of it with --salvage (see the README, Recovery)",
        new LogDamage(damage));
  }

  /** What {@link #check(Path)} refused: the damage of the log alone when that was it. */
  static String damage(KvException refused) {
    return refused.getCause() instanceof LogDamage log ? log.getMessage() : refused.getMessage();
  }

  /** What is damaged in a write-ahead log, for a salvage to report. */
  private static final class LogDamage extends Exception {
    private static final long serialVersionUID = 1L;

    LogDamage(String damage) {
      super(damage, null, false, false);
    }
  }

  /** RocksDB's own log, discarded: for the check, which must write nothing. */
  static final class Silent extends Logger {
    Silent() {
      super(InfoLogLevel.FATAL_LEVEL);
    }

    @Override
    protected void log(InfoLogLevel level, String message) {}
  }
}
