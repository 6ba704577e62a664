package dev.kv.server;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * An amount that calls hold while they run, such as call slots or bytes of requests, with a limit:
 * the server's, or a part of a larger share with a limit of its own, as a connection's is of its
 * client address's, and that of the server's. What is taken from a part is taken from every share
 * it is part of, and only if each has room.
 */
final class Share {

  private final String holder;
  private final long limit;
  private final Share whole;
  private final LongFunction<String> amount;
  private final String what;
  private final String advice;
  private final AtomicLong held = new AtomicLong();

  private Share(
      String holder,
      long limit,
      Share whole,
      LongFunction<String> amount,
      String what,
      String advice) {
    this.holder = holder;
    this.limit = limit;
    this.whole = whole;
    this.amount = amount;
    this.what = what;
    this.advice = advice;
  }

  /**
   * The server's whole share of something, refused past {@code limit} with "kv-server is at its
   * limit of {@code amount(limit)} {@code what}{@code advice}".
   */
  static Share ofServer(long limit, LongFunction<String> amount, String what, String advice) {
    return new Share(null, limit, null, amount, what, advice);
  }

  /**
   * A part of this share, of {@code percent} of the server's limit (at least 1), for {@code
   * holder}, such as "this connection".
   */
  Share part(String holder, int percent) {
    long partLimit = Math.max(1, server().limit * percent / 100);
    return new Share(holder, partLimit, this, amount, what, advice);
  }

  /**
   * Takes {@code amount} from this share and every share it is part of, or, when one of them has no
   * room for it, from none: then returns why, naming the largest share that has no room. Returns
   * null once taken.
   */
  String take(long amount) {
    String refused = whole == null ? null : whole.take(amount);
    if (refused != null) {
      return refused;
    }
    if (held.addAndGet(amount) > limit) {
      held.addAndGet(-amount);
      if (whole != null) {
        whole.giveBack(amount);
      }
      return refusal();
    }
    return null;
  }

  /** What is taken from this share now. */
  long held() {
    return held.get();
  }

  /** Gives back {@code amount} that {@link #take} took. */
  void giveBack(long amount) {
    for (Share share = this; share != null; share = share.whole) {
      share.held.addAndGet(-amount);
    }
  }

  private String refusal() {
    Share server = server();
    String serverLimit = server.amount.apply(server.limit) + " " + what;
    return holder == null
        ? "kv-server is at its limit of " + serverLimit + advice
        : holder
            + " holds its share ("
            + amount.apply(limit)
            + ") of kv-server's limit of "
            + serverLimit
            + advice;
  }

  private Share server() {
    Share share = this;
    while (share.whole != null) {
      share = share.whole;
    }
    return share;
  }
}
