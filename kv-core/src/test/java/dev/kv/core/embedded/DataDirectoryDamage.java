package dev.kv.core.embedded;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.LiveFileMetaData;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

/** Damage done to the files of a data directory of the embedded store, as a failing disk would. */
public final class DataDirectoryDamage {

  private DataDirectoryDamage() {}

  /** The largest table file (SST) of the column family {@code family}: entries, history... */
  public static Path tableOf(Path dataDir, String family) throws Exception {
    String db = dataDir.resolve("db").toString();
    RocksDB.loadLibrary();
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    try (Options options = new Options()) {
      RocksDB.listColumnFamilies(options, db)
          .forEach(name -> descriptors.add(new ColumnFamilyDescriptor(name)));
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions options = new DBOptions();
        RocksDB opened = RocksDB.openReadOnly(options, db, descriptors, handles)) {
      try {
        String file =
            opened.getLiveFilesMetaData().stream()
                .filter(table -> Records.utf8(table.columnFamilyName()).equals(family))
                .max(Comparator.comparingLong(LiveFileMetaData::size))
                .orElseThrow(() -> new AssertionError("no table file of " + family))
                .fileName();
        return dataDir.resolve("db").resolve(file.replaceFirst("^/", ""));
      } finally {
        handles.forEach(ColumnFamilyHandle::close);
      }
    }
  }

  /** Flips one bit of the byte at {@code fraction} of {@code file}'s length. */
  public static void flipBit(Path file, double fraction) throws IOException {
    try (RandomAccessFile bytes = new RandomAccessFile(file.toFile(), "rw")) {
      long at = (long) (bytes.length() * fraction);
      bytes.seek(at);
      int value = bytes.read();
      bytes.seek(at);
      bytes.write(value ^ 0x01);
    }
  }

  /** The newest write-ahead log file. */
  public static Path newestLog(Path dataDir) throws IOException {
    try (Stream<Path> files = Files.list(dataDir.resolve("db"))) {
      return files
          .filter(file -> file.getFileName().toString().endsWith(".log"))
          .max(Comparator.naturalOrder())
          .orElseThrow(() -> new AssertionError("no write-ahead log in " + dataDir));
    }
  }

  /**
   * Changes the length byte of the record {@code fromTheEnd} records before the end of {@code log},
   * so that it claims more bytes than the file holds: as the flipped byte did.
   */
  public static void lengthenRecord(Path log, int fromTheEnd) throws IOException {
    List<Long> records = WriteAheadLog.lastBlockOf(log).records();
    if (records.size() <= fromTheEnd) {
      throw new AssertionError(log + " has " + records.size() + " records in its last block");
    }
    try (RandomAccessFile bytes = new RandomAccessFile(log.toFile(), "rw")) {
      bytes.seek(records.get(records.size() - 1 - fromTheEnd) + 5); // the length's high byte
      bytes.write(0x7f);
    }
  }

  /** Every file under {@code dir} with a digest of its bytes, to show that none changed. */
  public static Map<Path, String> contents(Path dir) throws Exception {
    Map<Path, String> contents = new TreeMap<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        contents.put(
            dir.relativize(file),
            HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file))));
      }
    }
    return contents;
  }

  /**
   * Copies {@code dataDir} to {@code image} while a store has it open: the files as a crash of its
   * process would leave them, every acknowledged write being on disk.
   */
  public static void crashImage(Path dataDir, Path image) throws IOException {
    try (Stream<Path> files = Files.walk(dataDir)) {
      for (Path file : files.toList()) {
        Path copy = image.resolve(dataDir.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(copy);
        } else {
          Files.copy(file, copy, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }
}
