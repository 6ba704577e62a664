package dev.kv.core;

import java.time.Duration;

/** Times to live of keys: the rules every store shares. */
public final class Ttl {

  /** No time to live: the key stays until it is deleted. */
  public static final Duration NONE = Duration.ZERO;

  /** The longest time to live. */
  public static final Duration MAX = Duration.ofDays(365);

  private Ttl() {}

  /**
   * The time to live in whole seconds, rounded up; 0 for {@link #NONE}.
   *
   * @throws KvException with {@link KvException.Code#INVALID_ARGUMENT} when it is negative or
   *     longer than {@link #MAX}
   */
  public static long seconds(Duration ttl) {
    if (ttl == null || ttl.isNegative() || ttl.compareTo(MAX) > 0) {
      throw new KvException(
          KvException.Code.INVALID_ARGUMENT,
          "a time to live must be between 0 (none) and " + MAX.toDays() + " days, not " + ttl);
    }
    long seconds = ttl.getSeconds();
    return ttl.getNano() > 0 ? seconds + 1 : seconds;
  }

  /**
   * The whole seconds a key has {@code left} to live, rounded up: at least 1, for a key whose time
   * ran out but that is not deleted yet (as etcd tells of a lease that expired).
   */
  public static long secondsLeft(Duration left) {
    if (left.isNegative() || left.isZero()) {
      return 1;
    }
    long seconds = left.getSeconds();
    return left.getNano() > 0 ? seconds + 1 : seconds;
  }
}
