package dev.kv.core.embedded;

import dev.kv.core.KvException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.FlushOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.ReadTier;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;
import org.rocksdb.WriteOptions;

/**
 * The RocksDB database of an open data directory, with its column families laid out as {@link
 * Records} says. Only the classes that read and write that layout use its handles: {@link
 * SnapshotReader}, {@link Batch} and {@link Salvage}.
 */
final class Database implements AutoCloseable {

  private static final Logger logger = Logger.getLogger(Database.class.getName());

  final RocksDB db;

  /** The format and the revisions. */
  final ColumnFamilyHandle meta;

  final ColumnFamilyHandle entries;
  final ColumnFamilyHandle history;
  final ColumnFamilyHandle expiries;

  /** For every write: forced to disk before it returns. */
  final WriteOptions sync = new WriteOptions().setSync(true);

  /**
   * For reads that must not wait for the disk: from the write buffers and the block cache alone. A
   * read that needs more fails with status Incomplete ({@link #neededDisk}) rather than read it.
   */
  private final ReadOptions inMemory = new ReadOptions().setReadTier(ReadTier.BLOCK_CACHE_TIER);

  private final ReadOptions anywhere = new ReadOptions();

  private final Path path;
  private final List<ColumnFamilyHandle> handles;
  private final DatabaseOptions options;

  private Database(
      Path path, RocksDB db, List<ColumnFamilyHandle> handles, DatabaseOptions options) {
    this.path = path;
    this.db = db;
    this.handles = handles;
    this.meta = handles.get(0);
    this.entries = handles.get(1);
    this.history = handles.get(2);
    this.expiries = handles.get(3);
    this.options = options;
  }

  /**
   * Opens the database in {@code location}, which exists; {@code dir} is the data directory, for
   * messages. With {@code salvage}, what cannot be read of the write-ahead log is skipped.
   */
  static Database open(Path dir, Path location, boolean salvage) throws RocksDBException {
    DatabaseOptions options = new DatabaseOptions(salvage);
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try {
      RocksDB db =
          RocksDB.open(options.options, location.toString(), options.descriptors(), handles);
      return new Database(dir, db, handles, options);
    } catch (RocksDBException e) {
      handles.forEach(ColumnFamilyHandle::close);
      options.close();
      throw e;
    }
  }

  /** The options of a read without a snapshot that looks as far as {@code tier}. */
  ReadOptions reads(ReadTier tier) {
    return tier == ReadTier.BLOCK_CACHE_TIER ? inMemory : anywhere;
  }

  /** Whether {@code e} failed a read from memory alone only because it needed the disk. */
  static boolean neededDisk(Exception e) {
    return e instanceof RocksDBException failed
        && failed.getStatus() != null
        && failed.getStatus().getCode() == Status.Code.Incomplete;
  }

  /** RocksDB's integer {@code property}, summed over the column families. */
  long propertyOfAll(String property) throws RocksDBException {
    long sum = 0;
    for (ColumnFamilyHandle handle : handles) {
      sum += db.getLongProperty(handle, property);
    }
    return sum;
  }

  /** The data directory the database is in, for messages. */
  Path path() {
    return path;
  }

  /**
   * The error for a read of the database that failed: {@link KvException.Code#DATA_LOSS} when its
   * files are damaged or cannot be read back, {@link KvException.Code#UNAVAILABLE} otherwise. A
   * {@link KvException} (a record that does not decode) is its own error.
   */
  KvException readFailure(Exception e) {
    if (e instanceof KvException known) {
      return known;
    }
    return readFailure((RocksDBException) e);
  }

  private KvException readFailure(RocksDBException e) {
    Status status = e.getStatus();
    Status.Code code = status == null ? null : status.getCode();
    if (code == Status.Code.Corruption || code == Status.Code.IOError) {
      return new KvException(
          KvException.Code.DATA_LOSS,
          "cannot read the data directory "
              + path
              + " back, it is damaged ("
              + e.getMessage()
              + "); restore it from a backup",
          e);
    }
    return new KvException(
        KvException.Code.UNAVAILABLE,
        "cannot read the data directory " + path + ": " + e.getMessage(),
        e);
  }

  /** Writes what the write buffers of {@code families} hold to table files, and waits for it. */
  static void flush(RocksDB db, List<ColumnFamilyHandle> families) throws RocksDBException {
    try (FlushOptions wait = new FlushOptions().setWaitForFlush(true)) {
      db.flush(wait, families);
    }
  }

  /**
   * Closes the database. What the write buffers hold is written to table files first, so that a
   * clean stop leaves nothing the write-ahead log alone holds: a log lost or damaged after it costs
   * no write.
   */
  @Override
  public void close() {
    try {
      flush(db, handles);
    } catch (RocksDBException e) {
      // The log still holds the writes, and the next open reads them back.
      logger.warning(() -> "cannot flush the data directory " + path + ": " + e.getMessage());
    }
    handles.forEach(ColumnFamilyHandle::close);
    DataDirectory.closeQuietly(db);
    sync.close();
    inMemory.close();
    anywhere.close();
    options.close();
  }
}
