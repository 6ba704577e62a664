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
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.Logger;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
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

  private static final java.util.logging.Logger logger =
      java.util.logging.Logger.getLogger(DataDirectory.class.getName());

  /** What the {@code format} entry of a data directory says; a later layout gets a new one. */
  static final String FORMAT = "kv embedded store, format 1";

  static final byte[] FORMAT_KEY = Records.utf8("format");
  static final byte[] REVISION_KEY = Records.utf8("revision");
  static final byte[] FIRST_KEPT_KEY = Records.utf8("first-kept-revision");

  private static final String LOCK_FILE = "kv.lock";
  private static final String DATABASE = "db";
  private static final String NEW_DATABASE = "db.new";

  /** Where a salvage keeps the write-ahead log as it found it, one directory per salvage. */
  private static final String SALVAGED = "salvaged";

  private static final Set<String> OURS = Set.of(LOCK_FILE, DATABASE, NEW_DATABASE, SALVAGED);

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
   * With {@code salvage}, a database whose write-ahead log is damaged opens with what can be read
   * of it, the log being kept as it was in {@code salvaged/}.
   *
   * @throws KvException with {@link KvException.Code#FAILED_PRECONDITION} when the directory is in
   *     use, is not a data directory of this store, is damaged, or cannot be read or written
   */
  static DataDirectory open(Path path, boolean salvage) {
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
      boolean salvaging = false;
      if (!Files.isDirectory(dir.resolve(DATABASE))) {
        create(dir);
      } else if (salvage) {
        salvaging = prepareSalvage(dir);
      } else {
        check(dir);
      }
      return openDatabase(dir, real, channel, salvaging);
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
   * Checks the database of {@code dir} without writing to it: the end of its write-ahead logs, its
   * column families, that it opens (read-only, logging nowhere) and its format.
   */
  private static void check(Path dir) {
    Optional<String> logDamage = logDamage(dir);
    if (logDamage.isPresent()) {
      throw logRefused(dir, logDamage.get());
    }
    check(dir, false);
  }

  /**
   * Checks the database of {@code dir} as {@link #check(Path)} does, with salvage settings or not.
   */
  private static void check(Path dir, boolean salvage) {
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
      try (Settings settings = new Settings(salvage);
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
      throw salvage
          ? refused(dir, "even a salvage cannot open it (" + e.getMessage() + ")")
          : openFailure(dir, e);
    }
  }

  /**
   * Damage in the last block of a write-ahead log of {@code dir} that RocksDB would take for a torn
   * write, dropping the acknowledged writes after it; see {@link WriteAheadLog}.
   */
  private static Optional<String> logDamage(Path dir) {
    try (Stream<Path> files = Files.list(dir.resolve(DATABASE))) {
      for (Path log : files.filter(DataDirectory::isLog).sorted().toList()) {
        Optional<String> damage = WriteAheadLog.lastBlockOf(log).damage();
        if (damage.isPresent()) {
          return damage;
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      throw refused(dir, describe(e));
    }
  }

  private static boolean isLog(Path file) {
    return file.getFileName().toString().endsWith(".log");
  }

  /**
   * Readies {@code dir} for a salvage, when it needs one: its write-ahead logs are copied, as they
   * are, to a new directory under {@code salvaged/}, since opening them drops what cannot be read.
   *
   * @return whether the database needs a salvage; if not, it is checked as every open checks it
   */
  private static boolean prepareSalvage(Path dir) {
    String damage;
    try {
      check(dir);
      logger.info(() -> "--salvage: the data directory " + dir + " is whole; it opens as usual");
      return false;
    } catch (KvException e) {
      damage = e.getCause() instanceof LogDamage log ? log.getMessage() : e.getMessage();
    }
    check(dir, true);
    List<String> kept = new ArrayList<>();
    Path keep = dir.resolve(SALVAGED).resolve(SALVAGE_TIME.format(Instant.now()));
    try (Stream<Path> files = Files.list(dir.resolve(DATABASE))) {
      for (Path log : files.filter(DataDirectory::isLog).sorted().toList()) {
        Files.createDirectories(keep);
        Files.copy(log, keep.resolve(log.getFileName()));
        kept.add(log.getFileName() + " (" + Files.size(log) + " bytes)");
      }
    } catch (IOException e) {
      throw refused(dir, "cannot keep its write-ahead log before a salvage: " + describe(e));
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

  private static final DateTimeFormatter SALVAGE_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  /**
   * Makes a new, empty database: in a directory of its own, moved into place once complete, so that
   * a crash while making it leaves nothing half made.
   */
  private static void create(Path dir) throws IOException {
    Path fresh = dir.resolve(NEW_DATABASE);
    deleteRecursively(fresh);
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (Settings settings = new Settings(false);
        WriteOptions sync = new WriteOptions().setSync(true)) {
      settings.options.setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
      try (RocksDB db =
          RocksDB.open(settings.options, fresh.toString(), settings.descriptors(), handles)) {
        try {
          db.put(handles.get(0), sync, FORMAT_KEY, Records.utf8(FORMAT));
          db.put(handles.get(0), sync, REVISION_KEY, Records.number(1));
          db.put(handles.get(0), sync, FIRST_KEPT_KEY, Records.number(1));
          flush(db, handles);
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

  private static DataDirectory openDatabase(
      Path dir, Path real, FileChannel channel, boolean salvage) {
    Settings settings = new Settings(salvage);
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try {
      RocksDB db =
          RocksDB.open(
              settings.options, dir.resolve(DATABASE).toString(), settings.descriptors(), handles);
      DataDirectory opened = new DataDirectory(dir, real, channel, db, handles, settings);
      if (salvage) {
        try {
          opened.afterSalvage();
        } catch (RocksDBException | RuntimeException e) {
          opened.close();
          throw refused(dir, "the salvage cannot read what it opened (" + e.getMessage() + ")");
        }
      }
      return opened;
    } catch (RocksDBException e) {
      handles.forEach(ColumnFamilyHandle::close);
      settings.close();
      throw openFailure(dir, e);
    }
  }

  /**
   * Sets the revision past every one that the entries and the history hold: a salvage may have kept
   * a write in one column family and lost the revision it set in another, and a revision must never
   * be given twice.
   */
  private void afterSalvage() throws RocksDBException {
    byte[] stored = db.get(meta, REVISION_KEY);
    long revision = stored == null ? 1 : Records.number(stored);
    try (RocksIterator changes = db.newIterator(history)) {
      changes.seekToLast();
      if (changes.isValid()) {
        revision = Math.max(revision, Records.revisionOfChange(changes.key()));
      }
      changes.status();
    }
    try (RocksIterator entry = db.newIterator(entries)) {
      for (entry.seekToFirst(); entry.isValid(); entry.next()) {
        revision = Math.max(revision, Records.Stored.decode(entry.value()).modRevision());
      }
      entry.status();
    }
    db.put(meta, sync, REVISION_KEY, Records.number(revision));
    long recovered = revision;
    logger.warning(
        () ->
            "salvaged the data directory "
                + path
                + ": it holds what could be read, up to revision "
                + recovered
                + "; writes after it are lost. Restart without --salvage");
  }

  /**
   * The options of the database and its column families. RocksDB's memory is bounded by one cache:
   * it holds the write buffers (up to half of it), the index and filter blocks, and data blocks.
   *
   * <p>The write-ahead log is checked at open, so that no acknowledged write is lost without a
   * word: a record that fails its checksum is refused (a torn last record is a write that was never
   * acknowledged: dropped), and a log missing, cut short or emptied is refused while the manifest
   * or a later log says what it held. A salvage reads what it can instead.
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
    final DBOptions options;

    Settings(boolean salvage) {
      options =
          logChecks(!salvage)
              .setWriteBufferManager(writeBuffers)
              .setWalRecoveryMode(
                  salvage
                      ? WALRecoveryMode.SkipAnyCorruptedRecords
                      : WALRecoveryMode.TolerateCorruptedTailRecords)
              .setParanoidChecks(true)
              // A recycled log ends at its first bad record, which hides damage.
              .setRecycleLogFileNum(0)
              // Keeps the log from growing while one family is written to rarely.
              .setMaxTotalWalSize(64L << 20)
              .setKeepLogFileNum(3)
              .setMaxLogFileSize(4L << 20);
    }

    /**
     * The options with RocksDB's own checks of the log files on or off: the manifest records the
     * size of each log once closed (track_and_verify_wals_in_manifest), and each log what the one
     * before it held (track_and_verify_wals). The Java binding has no setters for them.
     */
    private static DBOptions logChecks(boolean on) {
      Properties checks = new Properties();
      checks.setProperty("track_and_verify_wals_in_manifest", String.valueOf(on));
      checks.setProperty("track_and_verify_wals", String.valueOf(on));
      DBOptions options = DBOptions.getDBOptionsFromProps(checks);
      if (options == null) {
        throw new IllegalStateException("this RocksDB does not know the options " + checks);
      }
      return options;
    }

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
      if (salvageable(dir)) {
        return logRefused(dir, detail);
      }
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

  /** What is damaged in a write-ahead log, for a salvage to report. */
  private static final class LogDamage extends Exception {
    private static final long serialVersionUID = 1L;

    LogDamage(String damage) {
      super(damage, null, false, false);
    }
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

  /**
   * The error for a read of the database that failed: {@link KvException.Code#DATA_LOSS} when its
   * files are damaged or cannot be read back, {@link KvException.Code#UNAVAILABLE} otherwise.
   */
  KvException readFailure(RocksDBException e) {
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

  private static void flush(RocksDB db, List<ColumnFamilyHandle> handles) throws RocksDBException {
    try (FlushOptions wait = new FlushOptions().setWaitForFlush(true)) {
      db.flush(wait, handles);
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
   * Closes the database and releases the lock. What the write buffers hold is written to table
   * files first, so that a clean stop leaves nothing the write-ahead log alone holds: a log lost or
   * damaged after it costs no write.
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
    closeQuietly(db);
    sync.close();
    settings.close();
    closeQuietly(lockChannel);
    OPEN.remove(realPath);
  }
}
