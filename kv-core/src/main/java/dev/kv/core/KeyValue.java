package dev.kv.core;

/**
 * A key, the value stored under it, and where it stands in the store's history (what etcd calls
 * them).
 *
 * @param key the key, never empty
 * @param value the value, possibly empty; empty too in a keys-only listing
 * @param createRevision the store revision that created the key (since it was last deleted)
 * @param modRevision the store revision of the key's last change; pass it to a compare-and-set
 * @param version how many times the key was written since it was created, starting at 1
 */
public record KeyValue(
    String key, String value, long createRevision, long modRevision, long version) {

  public KeyValue {
    Keys.requireValid(key);
    Keys.requireValue(value);
  }

  /** This entry with an empty value, as keys-only listings give it. */
  public KeyValue withoutValue() {
    return new KeyValue(key, "", createRevision, modRevision, version);
  }
}
