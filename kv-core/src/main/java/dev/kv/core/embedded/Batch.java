package dev.kv.core.embedded;

import dev.kv.core.Deleted;
import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.WatchEvent;
import dev.kv.core.embedded.Records.Stored;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatchWithIndex;

/**
 * Writes that go to disk together, with one sync. Each sees the ones before it, while readers of
 * the store see none of them until the whole batch is durable.
 */
final class Batch implements AutoCloseable {

  private static final Logger logger = Logger.getLogger(Batch.class.getName());

  private final Database database;
  private final WriteBatchWithIndex writes = new WriteBatchWithIndex(true);
  private final ReadOptions reads = new ReadOptions();
  private final long firstRevision;
  private long revision;
  private long firstKept;
  private int changesAtRevision;
  private long earliestExpiry = Long.MAX_VALUE;
  private boolean touched;
  private final List<WatchEvent> events = new ArrayList<>();

  /**
   * A batch over the store as it is at {@code revision}, keeping changes from {@code firstKept}.
   */
  Batch(Database database, long revision, long firstKept) {
    this.database = database;
    this.firstRevision = revision;
    this.revision = revision;
    this.firstKept = firstKept;
  }

  /** The store revision once this batch is applied. */
  long revision() {
    return revision;
  }

  /** The oldest revision whose changes the history keeps once this batch is applied. */
  long firstKept() {
    return firstKept;
  }

  /** The changes this batch makes, in order. */
  List<WatchEvent> events() {
    return events;
  }

  /** The earliest expiry this batch sets, or {@link Long#MAX_VALUE}. */
  long earliestExpiry() {
    return earliestExpiry;
  }

  Optional<Stored> read(String key) {
    try {
      byte[] bytes =
          writes.getFromBatchAndDB(database.db, database.entries, reads, Records.utf8(key));
      return Optional.ofNullable(bytes).map(Stored::decode);
    } catch (RocksDBException e) {
      throw database.readFailure(e);
    }
  }

  /**
   * Writes {@code value} under {@code key} at the next revision, to expire at {@code expiresAt}
   * (epoch milliseconds) unless it is 0.
   *
   * @return the revision of the write
   */
  long put(String key, String value, long expiresAt) throws RocksDBException {
    Optional<Stored> previous = read(key);
    long written = nextRevision();
    Stored stored =
        previous
            .map(
                old ->
                    new Stored(old.createRevision(), written, old.version() + 1, expiresAt, value))
            .orElseGet(() -> new Stored(written, written, 1, expiresAt, value));
    writes.put(database.entries, Records.utf8(key), stored.encode());
    if (previous.isPresent() && previous.get().expiresAt() != 0) {
      writes.delete(database.expiries, Records.expiryKey(previous.get().expiresAt(), key));
    }
    if (expiresAt != 0) {
      writes.put(database.expiries, Records.expiryKey(expiresAt, key), new byte[0]);
      earliestExpiry = Math.min(earliestExpiry, expiresAt);
    }
    record(new WatchEvent(WatchEvent.Type.PUT, stored.withKey(key)));
    return written;
  }

  /** Deletes those of {@code keys} that exist, all at one new revision (none if none existed). */
  Deleted delete(List<String> keys) throws RocksDBException {
    List<String> deleted = new ArrayList<>();
    List<Stored> previous = new ArrayList<>();
    for (String key : keys) {
      Optional<Stored> stored = read(key);
      if (stored.isPresent()) {
        deleted.add(key);
        previous.add(stored.get());
      }
    }
    if (deleted.isEmpty()) {
      return new Deleted(0, revision);
    }
    long written = nextRevision();
    for (int i = 0; i < deleted.size(); i++) {
      String key = deleted.get(i);
      writes.delete(database.entries, Records.utf8(key));
      if (previous.get(i).expiresAt() != 0) {
        writes.delete(database.expiries, Records.expiryKey(previous.get(i).expiresAt(), key));
      }
      record(WatchEvent.deleted(key, written));
    }
    return new Deleted(deleted.size(), written);
  }

  /**
   * The keys in [{@code from}, {@code to}) as this batch sees them; an empty {@code to} has no end.
   */
  List<String> keysBetween(String from, String to) {
    byte[] end = to.isEmpty() ? null : Records.utf8(to);
    List<String> keys = new ArrayList<>();
    try (RocksIterator base = database.db.newIterator(database.entries, reads);
        RocksIterator iterator = writes.newIteratorWithBase(database.entries, base)) {
      for (iterator.seek(Records.utf8(from)); iterator.isValid(); iterator.next()) {
        byte[] key = iterator.key();
        if (end != null && Arrays.compareUnsigned(key, end) >= 0) {
          break;
        }
        keys.add(Records.utf8(key));
      }
      finish(iterator);
    }
    return keys;
  }

  /**
   * Deletes the keys whose time ran out by {@code now}, each at a revision of its own, at most
   * {@code max} of them.
   *
   * @return when the next key expires, or {@link Long#MAX_VALUE}
   */
  long expire(long now, int max) throws RocksDBException {
    List<byte[]> due = new ArrayList<>();
    long next = Long.MAX_VALUE;
    try (RocksIterator base = database.db.newIterator(database.expiries, reads);
        RocksIterator iterator = writes.newIteratorWithBase(database.expiries, base)) {
      for (iterator.seekToFirst(); iterator.isValid(); iterator.next()) {
        byte[] expiry = iterator.key();
        long expiresAt = Records.expiryTime(expiry);
        if (expiresAt > now || due.size() == max) {
          next = expiresAt;
          break;
        }
        due.add(expiry);
      }
      finish(iterator);
    }
    for (byte[] expiry : due) {
      String key = Records.expiringKey(expiry);
      try {
        delete(List.of(key));
      } catch (KvException damaged) {
        // Reads of the key report the damage; its expiry must not block every later batch.
        writes.delete(database.expiries, expiry);
        logger.warning(() -> "cannot expire " + key + ": " + damaged.getMessage());
      }
    }
    return next;
  }

  /** Forgets the changes of revisions older than the last {@code limit}. */
  void trimHistory(int limit) throws RocksDBException {
    long keepFrom = revision - limit + 1;
    if (keepFrom <= firstKept) {
      return;
    }
    List<byte[]> forgotten = new ArrayList<>();
    try (RocksIterator base = database.db.newIterator(database.history, reads);
        RocksIterator iterator = writes.newIteratorWithBase(database.history, base)) {
      for (iterator.seek(Records.changeKey(firstKept, 0)); iterator.isValid(); iterator.next()) {
        byte[] change = iterator.key();
        if (Records.revisionOfChange(change) >= keepFrom) {
          break;
        }
        forgotten.add(change);
      }
      finish(iterator);
    }
    // Not while iterating: the batch must not change under its own iterator.
    for (byte[] change : forgotten) {
      writes.delete(database.history, change);
    }
    firstKept = keepFrom;
  }

  /**
   * Ends a scan: a read that failed also ends the loop, and must be an error, never a short answer.
   */
  private void finish(RocksIterator scan) {
    try {
      scan.status();
    } catch (RocksDBException e) {
      throw database.readFailure(e);
    }
  }

  /**
   * Makes {@link #commit} write even if nothing changed, to learn whether the disk takes writes.
   */
  void touch() {
    touched = true;
  }

  /** Makes the batch durable: written, then forced to disk. Does nothing if nothing changed. */
  void commit() throws RocksDBException {
    if (revision == firstRevision && !touched) {
      return;
    }
    writes.put(database.meta, Records.REVISION_KEY, Records.number(revision));
    writes.put(database.meta, Records.FIRST_KEPT_KEY, Records.number(firstKept));
    database.db.write(database.sync, writes);
  }

  private long nextRevision() {
    changesAtRevision = 0;
    return ++revision;
  }

  private void record(WatchEvent event) throws RocksDBException {
    writes.put(
        database.history,
        Records.changeKey(event.revision(), changesAtRevision++),
        Records.change(event));
    events.add(event);
  }

  /** The entry {@code key} holds, as this batch sees it. */
  Optional<KeyValue> entry(String key) throws RocksDBException {
    return read(key).map(stored -> stored.withKey(key));
  }

  @Override
  public void close() {
    writes.close();
    reads.close();
  }
}
