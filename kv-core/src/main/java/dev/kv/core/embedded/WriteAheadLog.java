package dev.kv.core.embedded;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * The end of a RocksDB write-ahead log file, read to tell a write torn by a crash from damage that
 * RocksDB takes for one.
 *
 * <p>RocksDB reads a record of the last, partly written block of a log that runs past the end of
 * the file as a write torn by a crash, and drops it with every record after it in that block: up to
 * 32 KiB of writes, without a word. A torn write is the last one, though: the store syncs each
 * write before the next one is written, so a complete record after the point where RocksDB stops
 * proves that what lies there was whole on disk once, and is damaged since.
 *
 * <p>The format (RocksDB's {@code db/log_format.h}): blocks of 32 KiB; in them, records of a 7-byte
 * header (the masked CRC-32C of the type and the payload, and the payload's length, both
 * little-endian, then the type) and the payload. A log written without recycling, as the store's
 * are, uses these header and types only.
 */
final class WriteAheadLog {

  static final int BLOCK_SIZE = 32 * 1024;

  private static final int HEADER_SIZE = 7;

  /** Full, first, middle, last; compression; timestamp sizes; the previous log's summary. */
  private static final Set<Integer> RECORD_TYPES = Set.of(1, 2, 3, 4, 9, 10, 130);

  private static final int MASK_DELTA = 0xa282ead8;

  private final Path file;
  private final long blockStart;
  private final byte[] block;

  private WriteAheadLog(Path file, long blockStart, byte[] block) {
    this.file = file;
    this.blockStart = blockStart;
    this.block = block;
  }

  /**
   * Reads the last block of {@code file}, if it is partly written (RocksDB's reader tolerates a
   * torn write there only).
   */
  static WriteAheadLog lastBlockOf(Path file) throws IOException {
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      long size = in.length();
      byte[] block = new byte[(int) (size % BLOCK_SIZE)];
      in.seek(size - block.length);
      in.readFully(block);
      return new WriteAheadLog(file, size - block.length, block);
    }
  }

  /**
   * The offsets in the file of the records RocksDB reads in the last block, before it stops at the
   * end or at a record cut off or zeroed.
   */
  List<Long> records() {
    List<Long> records = new ArrayList<>();
    int end = readableEnd();
    for (int at = 0; at < end; at += HEADER_SIZE + length(at)) {
      records.add(blockStart + at);
    }
    return records;
  }

  /**
   * What is damaged, when RocksDB would stop before a complete record in the last block: what it
   * would take for a torn write and drop was synced, and more written after it.
   */
  Optional<String> damage() {
    int stop = readableEnd();
    for (int at = stop + 1; at + HEADER_SIZE <= block.length; at++) {
      if (isRecord(at)) {
        return Optional.of(
            "the record at byte "
                + (blockStart + stop)
                + " of "
                + file.getFileName()
                + " looks cut off, yet complete records follow it");
      }
    }
    return Optional.empty();
  }

  /** Where RocksDB's reader stops in the block: its end, or a record cut off or zeroed. */
  private int readableEnd() {
    int at = 0;
    while (at + HEADER_SIZE <= block.length) {
      int length = length(at);
      if (type(at) == 0 && length == 0 || at + HEADER_SIZE + length > block.length) {
        return at;
      }
      at += HEADER_SIZE + length;
    }
    return at;
  }

  private boolean isRecord(int at) {
    int length = length(at);
    if (!RECORD_TYPES.contains(type(at)) || at + HEADER_SIZE + length > block.length) {
      return false;
    }
    CRC32C crc = new CRC32C();
    crc.update(block, at + HEADER_SIZE - 1, 1 + length);
    int computed = (int) crc.getValue();
    int masked = ((computed >>> 15) | (computed << 17)) + MASK_DELTA;
    return masked == littleEndian(at, 4);
  }

  private int length(int at) {
    return littleEndian(at + 4, 2);
  }

  private int type(int at) {
    return block[at + HEADER_SIZE - 1] & 0xff;
  }

  private int littleEndian(int at, int bytes) {
    int value = 0;
    for (int i = bytes - 1; i >= 0; i--) {
      value = (value << 8) | (block[at + i] & 0xff);
    }
    return value;
  }
}
