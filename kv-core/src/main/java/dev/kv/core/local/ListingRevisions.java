package dev.kv.core.local;

import static dev.kv.core.config.Durations.format;

import dev.kv.core.KvException;
import java.time.Duration;

/**
 * Why a local store cannot read a listing at a revision: it keeps no history of its values, only
 * the views its paged listings pinned (see {@link Pins}).
 */
public final class ListingRevisions {

  private ListingRevisions() {}

  /** A revision the store has not reached. */
  public static KvException beyond(long asked, long current) {
    return new KvException(
        KvException.Code.OUT_OF_RANGE,
        "revision " + asked + " is beyond the store's revision " + current);
  }

  /** A past revision that no listing keeps readable (any more). */
  public static KvException notKept(long asked, long current, Duration lease) {
    return new KvException(
        KvException.Code.OUT_OF_RANGE,
        "revision "
            + asked
            + " is no longer readable (the store is at "
            + current
            + "): a listing's revision stays readable for "
            + (lease.toMillis() % 60_000 == 0 ? lease.toMinutes() + " minutes" : format(lease))
            + " after its last page; list again from the start");
  }
}
