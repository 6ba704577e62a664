package dev.kv.core.embedded;

import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.WatchEvent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * How the embedded store lays out its data as RocksDB keys and values. Numbers are big-endian, so
 * that keys holding them sort in numeric order; keys are UTF-8, whose byte order is the code-point
 * order of {@link dev.kv.core.Keys#ORDER}.
 */
final class Records {

  private Records() {}

  /** What the {@code format} entry of a data directory says; a later layout gets a new one. */
  static final String FORMAT = "kv embedded store, format 1";

  // The meta (default) column family: the format, the store's revision, and the oldest revision
  // whose changes the history keeps.
  static final byte[] FORMAT_KEY = utf8("format");
  static final byte[] REVISION_KEY = utf8("revision");
  static final byte[] FIRST_KEPT_KEY = utf8("first-kept-revision");

  static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  static String utf8(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  static byte[] number(long value) {
    return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
  }

  static long number(byte[] bytes) {
    return read(bytes, ByteBuffer::getLong);
  }

  /**
   * An entry as stored under its key: its revisions, when it expires (epoch milliseconds, 0 for
   * never) and its value.
   */
  record Stored(long createRevision, long modRevision, long version, long expiresAt, String value) {

    private static final int HEADER = 4 * Long.BYTES;

    KeyValue withKey(String key) {
      return new KeyValue(key, value, createRevision, modRevision, version);
    }

    byte[] encode() {
      byte[] text = utf8(value);
      return ByteBuffer.allocate(HEADER + text.length)
          .putLong(createRevision)
          .putLong(modRevision)
          .putLong(version)
          .putLong(expiresAt)
          .put(text)
          .array();
    }

    static Stored decode(byte[] bytes) {
      return read(
          bytes,
          buffer ->
              new Stored(
                  buffer.getLong(),
                  buffer.getLong(),
                  buffer.getLong(),
                  buffer.getLong(),
                  utf8(Arrays.copyOfRange(bytes, HEADER, bytes.length))));
    }
  }

  /** The key of a change in the history: its revision, then its place among that revision's. */
  static byte[] changeKey(long revision, int index) {
    return ByteBuffer.allocate(Long.BYTES + Integer.BYTES).putLong(revision).putInt(index).array();
  }

  static long revisionOfChange(byte[] changeKey) {
    return read(changeKey, ByteBuffer::getLong);
  }

  /** A change as kept in the history; its revision is in its key. */
  static byte[] change(WatchEvent event) {
    KeyValue entry = event.entry();
    byte[] key = utf8(entry.key());
    byte[] value = utf8(entry.value());
    return ByteBuffer.allocate(1 + 2 * Long.BYTES + Integer.BYTES + key.length + value.length)
        .put((byte) event.type().ordinal())
        .putLong(entry.createRevision())
        .putLong(entry.version())
        .putInt(key.length)
        .put(key)
        .put(value)
        .array();
  }

  static WatchEvent change(byte[] changeKey, byte[] bytes) {
    long revision = revisionOfChange(changeKey);
    return read(
        bytes,
        buffer -> {
          WatchEvent.Type type = WatchEvent.Type.values()[buffer.get()];
          long createRevision = buffer.getLong();
          long version = buffer.getLong();
          byte[] key = new byte[buffer.getInt()];
          buffer.get(key);
          byte[] value = new byte[buffer.remaining()];
          buffer.get(value);
          return new WatchEvent(
              type, new KeyValue(utf8(key), utf8(value), createRevision, revision, version));
        });
  }

  /** The key of an expiry: when (epoch milliseconds), then the key that expires. */
  static byte[] expiryKey(long expiresAt, String key) {
    byte[] name = utf8(key);
    return ByteBuffer.allocate(Long.BYTES + name.length).putLong(expiresAt).put(name).array();
  }

  static long expiryTime(byte[] expiryKey) {
    return read(expiryKey, ByteBuffer::getLong);
  }

  static String expiringKey(byte[] expiryKey) {
    return utf8(Arrays.copyOfRange(expiryKey, Long.BYTES, expiryKey.length));
  }

  private interface Reader<T> {
    T read(ByteBuffer buffer);
  }

  /** Decodes {@code bytes}, reporting a record missing, too short or otherwise malformed. */
  private static <T> T read(byte[] bytes, Reader<T> reader) {
    if (bytes == null) {
      throw new KvException(
          KvException.Code.INTERNAL, "a record of the data directory is missing: it is damaged");
    }
    try {
      return reader.read(ByteBuffer.wrap(bytes));
    } catch (RuntimeException e) {
      throw new KvException(
          KvException.Code.INTERNAL,
          "a record of the data directory is damaged (" + bytes.length + " bytes): " + e,
          e);
    }
  }
}
