package dev.kv.core;

/**
 * One change a watch saw.
 *
 * @param type a write (PUT) or a delete, an expiry included (DELETE)
 * @param entry for a PUT, the entry as written; for a DELETE, the key with an empty value, whose
 *     modRevision is the revision of the delete
 */
public record WatchEvent(Type type, KeyValue entry) {

  public enum Type {
    PUT,
    DELETE
  }

  /** The store revision of the change. */
  public long revision() {
    return entry.modRevision();
  }

  /** The event of deleting {@code key} at {@code revision}. */
  public static WatchEvent deleted(String key, long revision) {
    return new WatchEvent(Type.DELETE, new KeyValue(key, "", 0, revision, 0));
  }
}
