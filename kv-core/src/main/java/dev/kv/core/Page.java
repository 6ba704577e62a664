package dev.kv.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One page of a listing, in key order.
 *
 * @param entries the keys found: at most the query's limit, and at most its byte budget of keys and
 *     values unless the page holds one entry alone
 * @param more whether keys remain after the last one; ask for them with {@link
 *     ListQuery#startAfter} and the last key of this page
 * @param revision the store revision the page was read at
 * @param ttlSeconds when the query asked {@link ListQuery#withTtl}: for each listed key that has a
 *     time to live, the whole seconds it has left, rounded up; empty otherwise
 */
public record Page(
    List<KeyValue> entries, boolean more, long revision, Map<String, Long> ttlSeconds) {

  public Page {
    entries = List.copyOf(entries);
    ttlSeconds = Map.copyOf(ttlSeconds);
  }

  /** A page without times to live. */
  public Page(List<KeyValue> entries, boolean more, long revision) {
    this(entries, more, revision, Map.of());
  }

  /** The seconds {@code key} has left to live, or 0 when it has no time to live (or none asked). */
  public long ttlSeconds(String key) {
    return ttlSeconds.getOrDefault(key, 0L);
  }

  /** Collects the page {@code query} asks for, for stores that read their entries one by one. */
  public static Builder builder(ListQuery query) {
    return new Builder(query);
  }

  /**
   * A page being filled in key order until the query's limit or byte budget: the rule every store
   * applies, written once.
   */
  public static final class Builder {
    private final ListQuery query;
    private final List<KeyValue> entries = new ArrayList<>();
    private final Map<String, Long> ttlSeconds = new HashMap<>();
    private long bytes;

    private Builder(ListQuery query) {
      this.query = query;
    }

    /**
     * Adds the next entry, without its value for a keys-only query, if the page has room for it.
     *
     * @return false when it has none: the page is full, and keys remain after it
     */
    public boolean add(KeyValue entry) {
      KeyValue listed = query.keysOnly() ? entry.withoutValue() : entry;
      long size = listed.byteSize();
      if (entries.size() == query.limit()
          || (!entries.isEmpty() && bytes + size > query.maxBytes())) {
        return false;
      }
      entries.add(listed);
      bytes += size;
      return true;
    }

    /**
     * {@link #add(KeyValue)}, with the seconds the entry has left to live (0 for no time to live),
     * kept when the query asked {@link ListQuery#withTtl}.
     */
    public boolean add(KeyValue entry, long ttlSeconds) {
      if (!add(entry)) {
        return false;
      }
      if (query.includeTtl() && ttlSeconds > 0) {
        this.ttlSeconds.put(entry.key(), ttlSeconds);
      }
      return true;
    }

    /** How many entries the page holds so far. */
    public int size() {
      return entries.size();
    }

    /** How many more bytes of keys and values the page may take. */
    public long bytesLeft() {
      return Math.max(0, query.maxBytes() - bytes);
    }

    /** The page as it stands; {@code more} says whether keys remain after its last. */
    public Page build(boolean more, long revision) {
      return new Page(entries, more, revision, ttlSeconds);
    }
  }
}
