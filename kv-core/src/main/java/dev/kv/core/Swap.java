package dev.kv.core;

import java.util.Optional;

/**
 * What a conditional write did: it applied, or its condition did not hold and the store is as it
 * was.
 *
 * @param applied whether the condition held and the write was applied
 * @param revision the store revision the write created, or the store's revision when it did not
 *     apply
 * @param current when the write did not apply, the entry as it is now (empty if the key does not
 *     exist); empty when it applied
 */
public record Swap(boolean applied, long revision, Optional<KeyValue> current) {

  /** The modification revision a key has when it does not exist, for "only if absent". */
  public static final long ABSENT = 0;
}
