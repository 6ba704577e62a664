package dev.kv.core.embedded;

import dev.kv.core.KvException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * Opening what can be read of a data directory whose write-ahead log is damaged: the log is kept as
 * it was first, and the revision is set past every one the database still holds.
 */
final class Salvage {

  private static final Logger logger = Logger.getLogger(Salvage.class.getName());

  /** Where a salvage keeps the write-ahead log as it found it, one directory per salvage. */
  static final String KEPT_LOGS = "salvaged";

  /** How a directory kept by a salvage or a restore is named: when, in UTC. */
  static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private Salvage() {}

  /**
   * Readies {@code dir} for a salvage, when it needs one: its write-ahead logs are copied, as they
   * are, to a new directory under {@code salvaged/}, since opening them drops what cannot be read.
   *
   * @return whether the database needs a salvage; if not, it is checked as every open checks it
   */
  static boolean prepare(Path dir) {
    String damage;
    try {
      Integrity.check(dir);
      logger.info(() -> "--salvage: the data directory " + dir + " is whole; it opens as usual");
      return false;
    } catch (KvException e) {
      damage = Integrity.damage(e);
    }
    Integrity.check(dir, true);
    List<String> kept = new ArrayList<>();
    Path keep = dir.resolve(KEPT_LOGS).resolve(TIME.format(Instant.now()));
    try {
      for (Path log : Integrity.logs(dir)) {
        Files.createDirectories(keep);
        Files.copy(log, keep.resolve(log.getFileName()));
        kept.add(log.getFileName() + " (" + Files.size(log) + " bytes)");
      }
    } catch (IOException e) {
      throw Refusal.of(
          dir, "cannot keep its write-ahead log before a salvage: " + Refusal.describe(e));
    }
    logger.warning(
        "salvaging the data directory "
            + dir
            + ": "
            + damage
            + (kept.isEmpty()
                ? "; it has no write-ahead log file to keep"
                : "; its write-ahead log as it was, "
                    + String.join(", ", kept)
                    + ", is kept in "
                    + keep));
    return true;
  }

  /**
   * Sets the revision of {@code salvaged} past every one that the entries and the history hold: a
   * salvage may have kept a write in one column family and lost the revision it set in another, and
   * a revision must never be given twice.
   */
  static void recover(Database salvaged) throws RocksDBException {
    byte[] stored = salvaged.db.get(salvaged.meta, Records.REVISION_KEY);
    long revision = stored == null ? 1 : Records.number(stored);
    try (RocksIterator changes = salvaged.db.newIterator(salvaged.history)) {
      changes.seekToLast();
      if (changes.isValid()) {
        revision = Math.max(revision, Records.revisionOfChange(changes.key()));
      }
      changes.status();
    }
    try (RocksIterator entry = salvaged.db.newIterator(salvaged.entries)) {
      for (entry.seekToFirst(); entry.isValid(); entry.next()) {
        revision = Math.max(revision, Records.Stored.decode(entry.value()).modRevision());
      }
      entry.status();
    }
    salvaged.db.put(salvaged.meta, salvaged.sync, Records.REVISION_KEY, Records.number(revision));
    long recovered = revision;
    logger.warning(
        () ->
            "salvaged the data directory "
                + salvaged.path()
                + ": it holds what could be read, up to revision "
                + recovered
                + "; writes after it are lost. Restart without --salvage");
  }
}
