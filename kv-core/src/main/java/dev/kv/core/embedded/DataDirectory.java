package dev.kv.core.embedded;

import dev.kv.core.KvException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.Logger;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;

/**
 * A data directory of the embedded store, open: the RocksDB database in its {@code db}
 * subdirectory, and the lock that keeps other processes out while it is open.
 *
 * <p>A directory is ours only if it is new, empty, or holds what this class wrote. Anything else is
 * refused, with a message that says why, before anything in it is written: a wrong path never turns
 * into a silent empty store, nor into a changed one.
 */
final class DataDirectory implements AutoCloseable {

  /** What the {@code format} entry of a data directory says; a later layout gets a new one. */
  static final String FORMAT = "kv embedded store, format 1";

  static final byte[] FORMAT_KEY = Records.utf8("format");
  static final byte[] REVISION_KEY = Records.utf8("revision");
  static final byte[] FIRST_KEPT_KEY = Records.utf8("first-kept-revision");

  private static final String LOCK_FILE = "kv.lock";
  private static final String DATABASE = "db";
  private static final String NEW_DATABASE = "db.new";
  private static final Set<String> OURS = Set.of(LOCK_FILE, DATABASE, NEW_DATABASE);

  /** The default column family holds the format and the revisions; these, the rest. */
  private static final List<String> FAMILIES = List.of("entries", "history", "expiries");

  /**
   * The directories open in this JVM. A lock on a file is the process's, and closing any channel to
   * the file drops it: a second open in the same process must be refused before it opens one.
   */
  private static final Set<Path> OPEN = ConcurrentHashMap.newKeySet();

  final Path path;
  final RocksDB db;
  final ColumnFamilyHandle meta;
  final ColumnFamilyHandle entries;
  final ColumnFamilyHandle history;
  final ColumnFamilyHandle expiries;

  /** For every write: forced to disk before it returns. */
  final WriteOptions sync;

  private final Path realPath;
  private final FileChannel lockChannel;
  private final List<ColumnFamilyHandle> handles;
  private final Settings settings;

  private DataDirectory(
      Path path,
      Path realPath,
      FileChannel lockChannel,
      RocksDB db,
      List<ColumnFamilyHandle> handles,
      Settings settings) {
    this.path = path;
    this.realPath = realPath;
    this.lockChannel = lockChannel;
    this.db = db;
    this.handles = handles;
    this.meta = handles.get(0);
    this.entries = handles.get(1);
    this.history = handles.get(2);
    this.expiries = handles.get(3);
    this.settings = settings;
    this.sync = new WriteOptions().setSync(true);
  }

  /**
   * Opens the data directory at {@code path}, making a new one if it does not exist or is empty.
   *
   * @throws KvException with {@link KvException.Code#FAILED_PRECONDITION} when the directory is in
   *     use, is not a data directory of this store, is damaged, or cannot be read or written
   */
  static DataDirectory open(Path path) {
    Path dir = path.toAbsolutePath().normalize();
    RocksDB.loadLibrary();
    List<String> foreign = foreignFiles(dir);
    if (!foreign.isEmpty()) {
      throw refused(
          dir,
          "it is not a kv data directory (it holds "
              + String.join(", ", foreign.subList(0, Math.min(5, foreign.size())))
              + (foreign.size() > 5 ? ", ..." : "")
              + "); choose an empty or new directory");
    }
    Path real = realPath(dir);
    if (!OPEN.add(real)) {
      throw inUse(dir);
    }
    FileChannel channel = null;
    try {
      channel =
          FileChannel.open(
              dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        throw inUse(dir);
      }
      if (Files.isDirectory(dir.resolve(DATABASE))) {
        check(dir);
      } else {
        create(dir);
      }
      return openDatabase(dir, real, channel);
    } catch (IOException e) {
      closeQuietly(channel);
      OPEN.remove(real);
      throw refused(dir, describe(e));
    } catch (RuntimeException e) {
      closeQuietly(channel);
      OPEN.remove(real);
      throw e;
    }
  }

  /** The entries of {@code dir} that this class did not write; makes {@code dir} if missing. */
  private static List<String> foreignFiles(Path dir) {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw refused(dir, "it is a file, not a directory");
    }
    try {
      Files.createDirectories(dir);
      try (Stream<Path> files = Files.list(dir)) {
        return files
            .map(file -> file.getFileName().toString())
            .filter(name -> !OURS.contains(name))
            .sorted()
            .toList();
      }
    } catch (IOException e) {
      throw refused(dir, describe(e));
    }
  }

  private static Path realPath(Path dir) {
    try {
      return dir.toRealPath();
    } catch (IOException e) {
      throw refused(dir, describe(e));
    }
  }

  /**
   * Checks the database of {@code dir} without writing to it: its column families, that it opens
   * (read-only, logging nowhere) and its format.
   */
  private static void check(Path dir) {
    String location = dir.resolve(DATABASE).toString();
    try {
      List<String> found;
      try (Options options = new Options()) {
        found = RocksDB.listColumnFamilies(options, location).stream().map(Records::utf8).toList();
      }
      List<String> expected = new ArrayList<>(FAMILIES);
      expected.add(Records.utf8(RocksDB.DEFAULT_COLUMN_FAMILY));
      if (!found.isEmpty() && !Set.copyOf(found).equals(Set.copyOf(expected))) {
        throw refused(dir, "its database is not a kv store's (it holds " + found + ")");
      }
      try (Settings settings = new Settings();
          Logger silent = new Silent()) {
        settings.options.setLogger(silent);
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (RocksDB db =
            RocksDB.openReadOnly(settings.options, location, settings.descriptors(), handles)) {
          try {
            byte[] format = db.get(handles.get(0), FORMAT_KEY);
            if (format == null || !FORMAT.equals(Records.utf8(format))) {
              throw refused(
                  dir,
                  format == null
                      ? "its database is not a kv store's"
                      : "it was written in another format ('"
                          + Records.utf8(format)
                          + "'), by another version of kv");
            }
          } finally {
            handles.forEach(ColumnFamilyHandle::close);
          }
        }
      }
    } catch (RocksDBException e) {
      throw openFailure(dir, e);
    }
  }

  /**
   * Makes a new, empty database: in a directory of its own, moved into place once complete, so that
   * a crash while making it leaves nothing half made.
   */
  private static void create(Path dir) throws IOException {
    Path fresh = dir.resolve(NEW_DATABASE);
    deleteRecursively(fresh);
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (Settings settings = new Settings();
        WriteOptions sync = new WriteOptions().setSync(true)) {
      settings.options.setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
      try (RocksDB db =
          RocksDB.open(settings.options, fresh.toString(), settings.descriptors(), handles)) {
        try {
          db.put(handles.get(0), sync, FORMAT_KEY, Records.utf8(FORMAT));
          db.put(handles.get(0), sync, REVISION_KEY, Records.number(1));
          db.put(handles.get(0), sync, FIRST_KEPT_KEY, Records.number(1));
        } finally {
          handles.forEach(ColumnFamilyHandle::close);
        }
      }
    } catch (RocksDBException e) {
      throw refused(dir, "cannot make a database in it: " + e.getMessage());
    }
    Files.move(fresh, dir.resolve(DATABASE), StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
      directory.force(true);
    }
  }

  private static DataDirectory openDatabase(Path dir, Path real, FileChannel channel) {
    Settings settings = new Settings();
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try {
      RocksDB db =
          RocksDB.open(
              settings.options, dir.resolve(DATABASE).toString(), settings.descriptors(), handles);
      return new DataDirectory(dir, real, channel, db, handles, settings);
    } catch (RocksDBException e) {
      handles.forEach(ColumnFamilyHandle::close);
      settings.close();
      throw openFailure(dir, e);
    }
  }

  /**
   * The options of the database and its column families. RocksDB's memory is bounded by one cache:
   * it holds the write buffers (up to half of it), the index and filter blocks, and data blocks.
   */
  private static final class Settings implements AutoCloseable {
    private static final long CACHE_BYTES = 64L << 20;
    private static final long WRITE_BUFFERS_BYTES = CACHE_BYTES / 2;
    private static final long WRITE_BUFFER_BYTES = 16L << 20;

    final LRUCache cache = new LRUCache(CACHE_BYTES);
    final WriteBufferManager writeBuffers = new WriteBufferManager(WRITE_BUFFERS_BYTES, cache);
    final BloomFilter filter = new BloomFilter(10);
    final ColumnFamilyOptions families =
        new ColumnFamilyOptions()
            .setWriteBufferSize(WRITE_BUFFER_BYTES)
            .setTableFormatConfig(
                new BlockBasedTableConfig()
                    .setBlockCache(cache)
                    .setCacheIndexAndFilterBlocks(true)
                    .setFilterPolicy(filter));
    final DBOptions options =
        new DBOptions()
            .setWriteBufferManager(writeBuffers)
            // A torn last record is a write that was never acknowledged: dropped. Damage
            // anywhere else would lose acknowledged writes: refused.
            .setWalRecoveryMode(WALRecoveryMode.TolerateCorruptedTailRecords)
            // Keeps the log from growing while one family is written to rarely.
            .setMaxTotalWalSize(64L << 20)
            .setKeepLogFileNum(3)
            .setMaxLogFileSize(4L << 20);

    List<ColumnFamilyDescriptor> descriptors() {
      List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
      descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, families));
      FAMILIES.forEach(
          name -> descriptors.add(new ColumnFamilyDescriptor(Records.utf8(name), families)));
      return descriptors;
    }

    @Override
    public void close() {
      options.close();
      families.close();
      filter.close();
      writeBuffers.close();
      cache.close();
    }
  }

  /** RocksDB's own log, discarded: for the check, which must write nothing. */
  private static final class Silent extends Logger {
    Silent() {
      super(InfoLogLevel.FATAL_LEVEL);
    }

    @Override
    protected void log(InfoLogLevel level, String message) {}
  }

  /** What a failure to open the database means for the user. */
  private static KvException openFailure(Path dir, RocksDBException e) {
    Status status = e.getStatus();
    String detail = e.getMessage();
    if (status != null && status.getCode() == Status.Code.Corruption
        || detail.contains("does not exist")
        || detail.contains("No such file")) {
      return refused(
          dir,
          "it is damaged ("
              + detail
              + "); restore it from a backup, or move it away to start with an empty store");
    }
    if (detail.contains("Column famil")) {
      return refused(dir, "its database is not a kv store's (" + detail + ")");
    }
    if (detail.contains("While lock file")) {
      return inUse(dir);
    }
    return refused(dir, detail);
  }

  private static KvException inUse(Path dir) {
    return refused(
        dir,
        "it is in use by another process (or by another store in this one); "
            + "only one may open a data directory at a time");
  }

  private static KvException refused(Path dir, String reason) {
    return new KvException(
        KvException.Code.FAILED_PRECONDITION,
        "cannot open the data directory " + dir + ": " + reason);
  }

  private static String describe(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied (" + e.getMessage() + ")";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or directory (" + e.getMessage() + ")";
    }
    if (e instanceof FileSystemException fs && fs.getReason() != null) {
      return fs.getReason() + " (" + fs.getFile() + ")";
    }
    return String.valueOf(e.getMessage());
  }

  private static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }

  private static void closeQuietly(AutoCloseable resource) {
    if (resource == null) {
      return;
    }
    try {
      resource.close();
    } catch (Exception ignored) {
      // Closing after a failure: the failure is what the caller reports.
    }
  }

  /**
   * Closes the database and releases the lock. What the write buffers hold stays in the write-ahead
   * log, already on disk, and is read back at the next open.
   */
  @Override
  public void close() {
    handles.forEach(ColumnFamilyHandle::close);
    closeQuietly(db);
    sync.close();
    settings.close();
    closeQuietly(lockChannel);
    OPEN.remove(realPath);
  }
}
