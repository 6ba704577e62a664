package dev.kv.core.local;

import static dev.kv.core.config.Durations.format;

import dev.kv.core.KvException;
import java.time.Duration;

/**
 * Why a local store cannot read a listing at a revision: it keeps no past values, only the views
 * its paged listings pinned (see {@link Pins}) and the changes its history keeps (see {@link
 * PastPage}).
 */
public final class ListingRevisions {

  private ListingRevisions() {}

  /** A revision the store has not reached. */
  public static KvException beyond(long asked, long current) {
    return new KvException(
        KvException.Code.OUT_OF_RANGE,
        "revision " + asked + " is beyond the store's revision " + current);
  }

  /**
   * A past revision that no listing keeps readable (any more), and that the history, which holds
   * the changes from revision {@code firstKept} on, cannot rebuild.
   */
  public static KvException notKept(long asked, long current, long firstKept, Duration lease) {
    return new KvException(
        KvException.Code.OUT_OF_RANGE,
        "revision "
            + asked
            + " is no longer readable (the store is at "
            + current
            + "): its history holds the changes since revision "
            + firstKept
            + " only, and a listing's revision stays readable for "
            + (lease.toMillis() % 60_000 == 0 ? lease.toMinutes() + " minutes" : format(lease))
            + " after its last page; list again from the start");
  }
}
