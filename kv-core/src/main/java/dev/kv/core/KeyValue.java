package dev.kv.core;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A key, the value stored under it, and where it stands in the store's history (what etcd calls
 * them).
 *
 * <p>kv writes text only, but an etcd shared with other programs may hold values that are not UTF-8
 * text. Listings and watches still give such an entry, with its bytes in {@link #binaryValue()} and
 * an empty {@link #value()}, so that one foreign value never hides the rest; {@link KvStore#get}
 * refuses it with {@link KvException.Code#FAILED_PRECONDITION} rather than return altered text.
 *
 * @param key the key, never empty
 * @param value the value, possibly empty; empty too in a keys-only listing, and when the value is
 *     not text
 * @param createRevision the store revision that created the key (since it was last deleted)
 * @param modRevision the store revision of the key's last change; pass it to a compare-and-set
 * @param version how many times the key was written since it was created, starting at 1
 * @param binaryValue the value's bytes when they are not UTF-8 text, or null when the value is text
 */
public record KeyValue(
    String key,
    String value,
    long createRevision,
    long modRevision,
    long version,
    byte[] binaryValue) {

  public KeyValue {
    Keys.requireValid(key);
    Keys.requireValue(value);
    if (binaryValue != null) {
      if (!value.isEmpty()) {
        throw new IllegalArgumentException("a value is either text or bytes, not both");
      }
      binaryValue = binaryValue.clone();
    }
  }

  /** An entry whose value is text. */
  public KeyValue(String key, String value, long createRevision, long modRevision, long version) {
    this(key, value, createRevision, modRevision, version, null);
  }

  /** An entry whose value is not UTF-8 text, as another etcd client may have written it. */
  public static KeyValue binary(
      String key, byte[] value, long createRevision, long modRevision, long version) {
    return new KeyValue(key, "", createRevision, modRevision, version, value);
  }

  /** Whether the value is text, as every value kv writes is. */
  public boolean isText() {
    return binaryValue == null;
  }

  /** The value's bytes when they are not text, or null; a copy, since arrays are mutable. */
  @Override
  public byte[] binaryValue() {
    return binaryValue == null ? null : binaryValue.clone();
  }

  /**
   * How many bytes the key and the value take as the stores keep them (UTF-8 for text), as a page's
   * byte budget counts them.
   */
  public long byteSize() {
    return utf8Length(key) + (binaryValue == null ? utf8Length(value) : binaryValue.length);
  }

  private static long utf8Length(String text) {
    long length = text.length();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c >= 0x80) {
        // Two UTF-16 units of a surrogate pair are four bytes: two more each.
        length += c < 0x800 || Character.isSurrogate(c) ? 1 : 2;
      }
    }
    return length;
  }

  /** This entry with an empty value, as keys-only listings give it. */
  public KeyValue withoutValue() {
    return new KeyValue(key, "", createRevision, modRevision, version);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof KeyValue that
        && key.equals(that.key)
        && value.equals(that.value)
        && createRevision == that.createRevision
        && modRevision == that.modRevision
        && version == that.version
        && Arrays.equals(binaryValue, that.binaryValue);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * key.hashCode() + value.hashCode() + Long.hashCode(modRevision))
        + Arrays.hashCode(binaryValue);
  }

  @Override
  public String toString() {
    return "KeyValue[key="
        + key
        + (binaryValue == null
            ? ", value=" + value
            : ", binaryValue=" + HexFormat.of().formatHex(binaryValue))
        + ", createRevision="
        + createRevision
        + ", modRevision="
        + modRevision
        + ", version="
        + version
        + "]";
  }
}
