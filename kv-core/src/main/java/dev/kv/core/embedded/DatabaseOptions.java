package dev.kv.core.embedded;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.RocksDB;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteBufferManager;

/**
 * The options of the database and its column families. RocksDB's memory is bounded by one cache: it
 * holds the write buffers (up to half of it), the index and filter blocks, and data blocks.
 *
 * <p>The write-ahead log is checked at open, so that no acknowledged write is lost without a word:
 * a record that fails its checksum is refused (a torn last record is a write that was never
 * acknowledged: dropped), and a log missing, cut short or emptied is refused while the manifest or
 * a later log says what it held. A salvage reads what it can instead.
 */
final class DatabaseOptions implements AutoCloseable {

  /** The default column family holds the format and the revisions; these, the rest. */
  static final List<String> FAMILIES = List.of("entries", "history", "expiries");

  private static final long CACHE_BYTES = 64L << 20;
  private static final long WRITE_BUFFERS_BYTES = CACHE_BYTES / 2;
  private static final long WRITE_BUFFER_BYTES = 16L << 20;

  private final LRUCache cache = new LRUCache(CACHE_BYTES);
  private final WriteBufferManager writeBuffers =
      new WriteBufferManager(WRITE_BUFFERS_BYTES, cache);
  private final BloomFilter filter = new BloomFilter(10);
  private final ColumnFamilyOptions families =
      new ColumnFamilyOptions()
          .setWriteBufferSize(WRITE_BUFFER_BYTES)
          .setTableFormatConfig(
              new BlockBasedTableConfig()
                  .setBlockCache(cache)
                  .setCacheIndexAndFilterBlocks(true)
                  .setFilterPolicy(filter));
  final DBOptions options;

  DatabaseOptions(boolean salvage) {
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
   * The options with RocksDB's own checks of the log files on or off: the manifest records the size
   * of each log once closed (track_and_verify_wals_in_manifest), and each log what the one before
   * it held (track_and_verify_wals). The Java binding has no setters for them.
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

  /** The default column family, then {@link #FAMILIES}, in that order. */
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
