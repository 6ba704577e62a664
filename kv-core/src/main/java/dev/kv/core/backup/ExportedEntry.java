package dev.kv.core.backup;

import dev.kv.core.KeyValue;
import java.time.Duration;
import java.util.Objects;

/**
 * One key of an export.
 *
 * @param entry the key, its value and its revisions as the store gave them
 * @param ttlSeconds the whole seconds it had left to live when exported; 0 for no time to live
 */
public record ExportedEntry(KeyValue entry, long ttlSeconds) {

  public ExportedEntry {
    Objects.requireNonNull(entry, "entry");
    if (ttlSeconds < 0) {
      throw new IllegalArgumentException("a time to live is not negative: " + ttlSeconds);
    }
  }

  /** The time to live to write it back with. */
  public Duration ttl() {
    return Duration.ofSeconds(ttlSeconds);
  }
}
