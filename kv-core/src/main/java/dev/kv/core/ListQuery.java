package dev.kv.core;

import java.util.Objects;

/**
 * Which keys a listing returns: those under a prefix, or those in a range [{@code from}, {@code
 * to}), in key order, a page at a time.
 *
 * <p>A page ends at whichever comes first of two bounds: {@link #limit} keys, or {@link #maxBytes}
 * bytes of keys and values (their UTF-8 bytes; keys alone {@link #withoutValues()}). It holds at
 * least one entry, however large, so that a listing always progresses. The byte budget keeps every
 * page's memory bounded, whatever the values weigh: its default, {@value #MAX_BYTES} bytes (4 MiB),
 * holds two of the largest entries kv-server accepts.
 *
 * <pre>{@code
 * ListQuery.prefix("users/").limit(100)
 * ListQuery.range("a", "m").withoutValues()
 * }</pre>
 *
 * @param from the first key that may be listed; empty for the first key of the store
 * @param to the key after the last that may be listed; empty for no end
 * @param startAfter list only keys after this one, to continue where a page stopped; empty for none
 * @param limit how many keys a page holds at most, from 1 to {@value #MAX_LIMIT}
 * @param maxBytes how many bytes of keys and values a page holds at most, from 1 to {@value
 *     #MAX_BYTES}, unless its one entry is larger
 * @param keysOnly whether to leave the values out
 * @param consistency how up to date the listing must be
 * @param revision the store revision to read the keys at; 0 for the latest. Every page of a listing
 *     read at the revision of its first page sees the store as of one moment. A revision no longer
 *     kept fails with {@link KvException.Code#OUT_OF_RANGE}, naming the oldest that is, as does one
 *     beyond the store's
 * @param includeTtl whether a page also gives each key's remaining time to live ({@link
 *     Page#ttlSeconds}); on etcd it costs one more call per key that has one
 */
public record ListQuery(
    String from,
    String to,
    String startAfter,
    int limit,
    int maxBytes,
    boolean keysOnly,
    ReadConsistency consistency,
    long revision,
    boolean includeTtl) {

  /** The largest page. */
  public static final int MAX_LIMIT = 10_000;

  /** The page size unless one is asked for. */
  public static final int DEFAULT_LIMIT = 1_000;

  /**
   * The most bytes of keys and values in a page, and the budget unless a smaller one is asked for.
   */
  public static final int MAX_BYTES = 4 << 20;

  public ListQuery {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(startAfter, "startAfter");
    Objects.requireNonNull(consistency, "consistency");
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new KvException(
          KvException.Code.INVALID_ARGUMENT,
          "limit must be between 1 and " + MAX_LIMIT + ", not " + limit);
    }
    if (maxBytes < 1 || maxBytes > MAX_BYTES) {
      throw new KvException(
          KvException.Code.INVALID_ARGUMENT,
          "a page's byte budget must be between 1 and " + MAX_BYTES + ", not " + maxBytes);
    }
    if (revision < 0) {
      throw new KvException(
          KvException.Code.INVALID_ARGUMENT,
          "a revision must be positive (0 for the latest), not " + revision);
    }
    if (!to.isEmpty() && Keys.ORDER.compare(from, to) >= 0) {
      throw new KvException(
          KvException.Code.INVALID_ARGUMENT,
          "the range must end after it starts: '" + from + "' is not before '" + to + "'");
    }
  }

  /** A query at the latest revision, without times to live, as before those were added. */
  public ListQuery(
      String from,
      String to,
      String startAfter,
      int limit,
      int maxBytes,
      boolean keysOnly,
      ReadConsistency consistency) {
    this(from, to, startAfter, limit, maxBytes, keysOnly, consistency, 0, false);
  }

  /** Every key that starts with {@code prefix}; the empty prefix lists every key. */
  public static ListQuery prefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    return new ListQuery(
        prefix,
        Keys.prefixEnd(prefix),
        "",
        DEFAULT_LIMIT,
        MAX_BYTES,
        false,
        ReadConsistency.LINEARIZABLE);
  }

  /** Every key from {@code from} (included) to {@code to} (excluded; empty for no end). */
  public static ListQuery range(String from, String to) {
    return new ListQuery(
        from, to, "", DEFAULT_LIMIT, MAX_BYTES, false, ReadConsistency.LINEARIZABLE);
  }

  public ListQuery limit(int limit) {
    return new ListQuery(
        from, to, startAfter, limit, maxBytes, keysOnly, consistency, revision, includeTtl);
  }

  /** The same query, with pages of at most {@code maxBytes} bytes of keys and values. */
  public ListQuery maxBytes(int maxBytes) {
    return new ListQuery(
        from, to, startAfter, limit, maxBytes, keysOnly, consistency, revision, includeTtl);
  }

  public ListQuery startAfter(String key) {
    return new ListQuery(
        from, to, key, limit, maxBytes, keysOnly, consistency, revision, includeTtl);
  }

  /** The same query, listing keys without their values. */
  public ListQuery withoutValues() {
    return new ListQuery(
        from, to, startAfter, limit, maxBytes, true, consistency, revision, includeTtl);
  }

  public ListQuery consistency(ReadConsistency consistency) {
    return new ListQuery(
        from, to, startAfter, limit, maxBytes, keysOnly, consistency, revision, includeTtl);
  }

  /**
   * The same query, read at store revision {@code revision} (0 for the latest): give each page the
   * revision of the first, {@link Page#revision}, and the listing is one consistent view.
   */
  public ListQuery atRevision(long revision) {
    return new ListQuery(
        from, to, startAfter, limit, maxBytes, keysOnly, consistency, revision, includeTtl);
  }

  /** The same query, giving each key's remaining time to live too: see {@link Page#ttlSeconds}. */
  public ListQuery withTtl() {
    return new ListQuery(
        from, to, startAfter, limit, maxBytes, keysOnly, consistency, revision, true);
  }

  /** The first key this page may hold: after {@link #startAfter} when given. */
  public String pageStart() {
    if (startAfter.isEmpty() || Keys.ORDER.compare(startAfter, from) < 0) {
      return from;
    }
    return startAfter + '\u0000';
  }
}
