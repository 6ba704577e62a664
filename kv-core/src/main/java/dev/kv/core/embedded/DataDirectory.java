package dev.kv.core.embedded;

import dev.kv.core.KvException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteOptions;

/**
 * A data directory of the embedded store, open: the {@link Database} in its {@code db}
 * subdirectory, and the lock that keeps other processes out while it is open.
 *
 * <p>A directory is ours only if it is new, empty, or holds what this class wrote. Anything else is
 * refused, with a message that says why, before anything in it is written: a wrong path never turns
 * into a silent empty store, nor into a changed one. What the database must pass before it opens is
 * in {@link Integrity}; how a damaged one opens anyway, in {@link Salvage}.
 */
final class DataDirectory implements AutoCloseable {

  private static final String LOCK_FILE = "kv.lock";
  private static final String DATABASE = "db";
  private static final String NEW_DATABASE = "db.new";

  /** Where a restore with force keeps the database it replaced, one directory per restore. */
  static final String REPLACED = "replaced";

  private static final Set<String> OURS =
      Set.of(LOCK_FILE, DATABASE, NEW_DATABASE, Salvage.KEPT_LOGS, Checkpoints.DIRECTORY, REPLACED);

  /**
   * The directories open in this JVM. A lock on a file is the process's, and closing any channel to
   * the file drops it: a second open in the same process must be refused before it opens one.
   */
  private static final Set<Path> OPEN = ConcurrentHashMap.newKeySet();

  private final Path path;
  private final Path realPath;
  private final FileChannel lockChannel;
  private final Database database;

  private DataDirectory(Path path, Path realPath, FileChannel lockChannel, Database database) {
    this.path = path;
    this.realPath = realPath;
    this.lockChannel = lockChannel;
    this.database = database;
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
      throw Refusal.of(dir, "it " + notOurs(foreign) + "; choose an empty or new directory");
    }
    Path real = realPath(dir);
    if (!OPEN.add(real)) {
      throw Refusal.inUse(dir);
    }
    FileChannel channel = null;
    try {
      channel =
          FileChannel.open(
              dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        throw Refusal.inUse(dir);
      }
      Checkpoints.deleteAll(dir);
      boolean salvaging = false;
      if (!Files.isDirectory(database(dir))) {
        create(dir);
      } else if (salvage) {
        salvaging = Salvage.prepare(dir);
      } else {
        Integrity.check(dir);
      }
      return new DataDirectory(dir, real, channel, openDatabase(dir, salvaging));
    } catch (IOException e) {
      closeQuietly(channel);
      OPEN.remove(real);
      throw Refusal.of(dir, Refusal.describe(e));
    } catch (RuntimeException e) {
      closeQuietly(channel);
      OPEN.remove(real);
      throw e;
    }
  }

  /** The database subdirectory of the data directory {@code dir}. */
  static Path database(Path dir) {
    return dir.resolve(DATABASE);
  }

  /** The directory, as given to {@link #open}, made absolute. */
  Path path() {
    return path;
  }

  /** The database, open until this directory closes. */
  Database database() {
    return database;
  }

  /** The entries of {@code dir} that this class did not write; makes {@code dir} if missing. */
  private static List<String> foreignFiles(Path dir) {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw Refusal.of(dir, "it is a file, not a directory");
    }
    try {
      Files.createDirectories(dir);
      return entries(dir).stream().filter(name -> !OURS.contains(name)).toList();
    } catch (IOException e) {
      throw Refusal.of(dir, Refusal.describe(e));
    }
  }

  private static List<String> entries(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(file -> file.getFileName().toString()).sorted().toList();
    }
  }

  /**
   * Refuses to restore into {@code dir} when it is a file or holds what this class did not write,
   * and, unless {@code force}, when it holds data.
   *
   * @throws KvException with {@link KvException.Code#INVALID_ARGUMENT}, saying why
   */
  static void checkRestorable(Path dir, boolean force) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    if (!Files.isDirectory(dir)) {
      throw restoreRefused(dir, "is a file, not a directory");
    }
    List<String> entries = entries(dir);
    List<String> foreign = entries.stream().filter(name -> !OURS.contains(name)).toList();
    if (!foreign.isEmpty()) {
      throw restoreRefused(dir, notOurs(foreign) + "; choose a new or empty directory");
    }
    if (!force
        && entries.stream()
            .anyMatch(name -> !name.equals(LOCK_FILE) && !name.equals(Checkpoints.DIRECTORY))) {
      throw restoreRefused(
          dir,
          "holds data; choose a new or empty directory, or force the restore, which keeps that"
              + " data aside in "
              + REPLACED
              + "/");
    }
  }

  /** What a directory holding {@code foreign} entries is, naming the first few. */
  private static String notOurs(List<String> foreign) {
    return "is not a kv data directory (it holds "
        + String.join(", ", foreign.subList(0, Math.min(5, foreign.size())))
        + (foreign.size() > 5 ? ", ..." : "")
        + ")";
  }

  private static KvException restoreRefused(Path dir, String reason) {
    return new KvException(
        KvException.Code.INVALID_ARGUMENT, "the data directory " + dir + " " + reason);
  }

  /**
   * Moves {@code database}, whole and checked, into place as the database of {@code dir}, under the
   * directory's lock. With {@code force}, the database it replaces is moved aside, never deleted.
   *
   * @return where the replaced database was moved, if there was one
   * @throws KvException as {@link #checkRestorable} does, or with {@link
   *     KvException.Code#FAILED_PRECONDITION} when the directory is in use
   */
  static Optional<Path> install(Path dir, Path database, boolean force) throws IOException {
    checkRestorable(dir, force);
    Files.createDirectories(dir);
    Path real = realPath(dir);
    if (!OPEN.add(real)) {
      throw Refusal.inUse(dir);
    }
    try (FileChannel channel =
            FileChannel.open(
                dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock()) {
      if (lock == null) {
        throw Refusal.inUse(dir);
      }
      checkRestorable(dir, force);
      Path replaced = null;
      if (Files.exists(database(dir))) {
        replaced =
            Files.createDirectories(dir.resolve(REPLACED))
                .resolve(Salvage.TIME.format(Instant.now()));
        Files.createDirectory(replaced);
        Files.move(database(dir), replaced.resolve(DATABASE), StandardCopyOption.ATOMIC_MOVE);
      }
      try {
        Files.move(database, database(dir), StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        if (replaced != null) {
          Files.move(replaced.resolve(DATABASE), database(dir), StandardCopyOption.ATOMIC_MOVE);
        }
        throw e;
      }
      try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
        directory.force(true);
      }
      return Optional.ofNullable(replaced);
    } finally {
      OPEN.remove(real);
    }
  }

  private static Path realPath(Path dir) {
    try {
      return dir.toRealPath();
    } catch (IOException e) {
      throw Refusal.of(dir, Refusal.describe(e));
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
    try (DatabaseOptions settings = new DatabaseOptions(false);
        WriteOptions sync = new WriteOptions().setSync(true)) {
      settings.options.setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
      try (RocksDB db =
          RocksDB.open(settings.options, fresh.toString(), settings.descriptors(), handles)) {
        try {
          db.put(handles.get(0), sync, Records.FORMAT_KEY, Records.utf8(Records.FORMAT));
          db.put(handles.get(0), sync, Records.REVISION_KEY, Records.number(1));
          db.put(handles.get(0), sync, Records.FIRST_KEPT_KEY, Records.number(1));
          Database.flush(db, handles);
        } finally {
          handles.forEach(ColumnFamilyHandle::close);
        }
      }
    } catch (RocksDBException e) {
      throw Refusal.of(dir, "cannot make a database in it: " + e.getMessage());
    }
    Files.move(fresh, database(dir), StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
      directory.force(true);
    }
  }

  private static Database openDatabase(Path dir, boolean salvage) {
    Database opened;
    try {
      opened = Database.open(dir, database(dir), salvage);
    } catch (RocksDBException e) {
      throw Integrity.openFailure(dir, e);
    }
    if (salvage) {
      try {
        Salvage.recover(opened);
      } catch (RocksDBException | RuntimeException e) {
        opened.close();
        throw Refusal.of(dir, "the salvage cannot read what it opened (" + e.getMessage() + ")");
      }
    }
    return opened;
  }

  static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }

  static void closeQuietly(AutoCloseable resource) {
    if (resource == null) {
      return;
    }
    try {
      resource.close();
    } catch (Exception ignored) {
      // Closing after a failure: the failure is what the caller reports.
    }
  }

  /** Closes the database (see {@link Database#close}), then releases the lock. */
  @Override
  public void close() {
    database.close();
    closeQuietly(lockChannel);
    OPEN.remove(realPath);
  }
}
