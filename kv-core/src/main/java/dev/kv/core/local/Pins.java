package dev.kv.core.local;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Values kept for a while after their last use: the views of the store a paged listing reads its
 * later pages from, at the revision of its first. A pin lives until its lease has passed since it
 * was last used; at most {@code cap} live at once, the least recently used released first to make
 * room. A value still in use when its pin ends is released once that use ends.
 *
 * <p>Values are released under this table's lock, so that {@link #close} returning means none is
 * released later: a store closes its pins before what they hold (a RocksDB snapshot needs the
 * database).
 *
 * @param <K> what a pin is found by
 * @param <V> what it keeps
 */
public final class Pins<K, V> implements AutoCloseable {

  /** How long a pin lives after its last use, unless told otherwise. */
  public static final Duration LEASE = Duration.ofMinutes(2);

  /** How many pins live at once, unless told otherwise. */
  public static final int CAP = 64;

  private final long leaseNanos;
  private final int cap;
  private final Consumer<? super V> release;

  /** In order of last use, the least recent first. */
  private final LinkedHashMap<K, Pin> pins = new LinkedHashMap<>(16, 0.75f, true);

  private final ScheduledThreadPoolExecutor sweeper;
  private boolean sweepScheduled;
  private boolean closed;

  /**
   * @param lease how long a pin lives after its last use
   * @param cap how many pins live at once
   * @param release what ends a value's life, called once for each value handed to {@link #pin}
   * @param name the name of the thread that releases pins whose lease ran out
   */
  public Pins(Duration lease, int cap, Consumer<? super V> release, String name) {
    if (lease.isNegative() || lease.isZero() || cap < 1) {
      throw new IllegalArgumentException(
          "pins need a positive lease and cap: " + lease + ", " + cap);
    }
    this.leaseNanos = lease.toNanos();
    this.cap = cap;
    this.release = release;
    this.sweeper = new ScheduledThreadPoolExecutor(1, Threads.daemon(name));
    // No thread while nothing is pinned.
    sweeper.setKeepAliveTime(1, TimeUnit.SECONDS);
    sweeper.allowCoreThreadTimeOut(true);
  }

  /** How long a pin lives after its last use. */
  public Duration lease() {
    return Duration.ofNanos(leaseNanos);
  }

  /**
   * Pins {@code value} under {@code key}, which takes it over. When {@code key} is pinned already,
   * that pin is renewed and {@code value}, the same view of the store, released.
   */
  public synchronized void pin(K key, V value) {
    Pin pinned = closed ? null : pins.get(key);
    if (closed || pinned != null) {
      if (pinned != null) {
        pinned.renew();
      }
      release.accept(value);
      return;
    }
    pins.put(key, new Pin(value));
    Iterator<Pin> leastRecent = pins.values().iterator();
    while (pins.size() > cap) {
      Pin evicted = leastRecent.next();
      leastRecent.remove();
      evicted.end();
    }
    scheduleSweep();
  }

  /**
   * Pins the value {@code make} gives under {@code key}, unless it is pinned already: then renews
   * that pin and makes nothing, for values that cost to make (a copy of a listed range).
   */
  public synchronized void pinIfAbsent(K key, Supplier<? extends V> make) {
    Pin pinned = closed ? null : pins.get(key);
    if (pinned != null) {
      pinned.renew();
      return;
    }
    pin(key, make.get());
  }

  /**
   * Uses the value pinned under {@code key}, if any, renewing its pin: it stays valid until the use
   * is closed.
   */
  public synchronized Optional<Use> use(K key) {
    sweep();
    Pin pinned = pins.get(key);
    if (pinned == null) {
      return Optional.empty();
    }
    pinned.users++;
    pinned.renew();
    return Optional.of(new Use(pinned));
  }

  /** How many pins live. */
  public synchronized int size() {
    sweep();
    return pins.size();
  }

  /** Releases every pinned value (those in use once their use ends); later pins are released. */
  @Override
  public synchronized void close() {
    closed = true;
    List<Pin> all = new ArrayList<>(pins.values());
    pins.clear();
    all.forEach(Pin::end);
    sweeper.shutdownNow();
  }

  /** Ends the pins whose lease ran out; under the lock. */
  private void sweep() {
    long now = System.nanoTime();
    Iterator<Pin> pinned = pins.values().iterator();
    while (pinned.hasNext()) {
      Pin pin = pinned.next();
      if (now - pin.expiresAt >= 0) {
        pinned.remove();
        pin.end();
      }
    }
  }

  /** Sweeps when the first pin left could end; under the lock. */
  private void scheduleSweep() {
    if (sweepScheduled || closed || pins.isEmpty()) {
      return;
    }
    long next = pins.values().stream().mapToLong(pin -> pin.expiresAt).min().orElseThrow();
    sweepScheduled = true;
    sweeper.schedule(
        () -> {
          synchronized (this) {
            sweepScheduled = false;
            sweep();
            scheduleSweep();
          }
        },
        Math.max(0, next - System.nanoTime()),
        TimeUnit.NANOSECONDS);
  }

  /** A use of a pinned value: valid until closed, even if its pin ends meanwhile. */
  public final class Use implements AutoCloseable {
    private final Pin pin;
    private boolean closed;

    private Use(Pin pin) {
      this.pin = pin;
    }

    public V value() {
      return pin.value;
    }

    @Override
    public void close() {
      synchronized (Pins.this) {
        if (closed) {
          return;
        }
        closed = true;
        pin.users--;
        pin.renew();
        if (pin.ended && pin.users == 0) {
          release.accept(pin.value);
        }
      }
    }
  }

  /** A pinned value, its lease, and how many uses it has under way; under the lock. */
  private final class Pin {
    final V value;
    long expiresAt;
    int users;
    boolean ended;

    Pin(V value) {
      this.value = value;
      renew();
    }

    void renew() {
      expiresAt = System.nanoTime() + leaseNanos;
    }

    /** Out of the table: released now, or when its last use ends. */
    void end() {
      ended = true;
      if (users == 0) {
        release.accept(value);
      }
    }
  }
}
