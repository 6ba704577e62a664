package dev.kv.core;

import java.util.LinkedHashMap;
import java.util.Map;

/** What a store holds, for tests to compare: every key a query selects, and its value. */
public final class StoreValues {

  private StoreValues() {}

  /** Every key {@code query} selects in {@code store}, in key order, with its value. */
  public static Map<String, String> of(KvStore store, ListQuery query) {
    Map<String, String> values = new LinkedHashMap<>();
    Listing.of(store, query)
        .forEachRemaining(
            page -> page.entries().forEach(entry -> values.put(entry.key(), entry.value())));
    return values;
  }

  /** Every key of {@code store}, in key order, with its value. */
  public static Map<String, String> of(KvStore store) {
    return of(store, ListQuery.prefix(""));
  }
}
