package dev.kv.core;

import java.util.List;

/**
 * One page of a listing, in key order.
 *
 * @param entries the keys found, at most the query's limit
 * @param more whether keys remain after the last one; ask for them with {@link
 *     ListQuery#startAfter} and the last key of this page
 * @param revision the store revision the page was read at
 */
public record Page(List<KeyValue> entries, boolean more, long revision) {

  public Page {
    entries = List.copyOf(entries);
  }
}
