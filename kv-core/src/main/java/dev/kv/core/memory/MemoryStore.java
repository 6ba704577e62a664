package dev.kv.core.memory;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import dev.kv.core.AbstractKvStore;
import dev.kv.core.Deleted;
import dev.kv.core.KeyValue;
import dev.kv.core.Keys;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.ReadConsistency;
import dev.kv.core.StoreStatus;
import dev.kv.core.Swap;
import dev.kv.core.Ttl;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.local.CompareAndSet;
import dev.kv.core.local.History;
import dev.kv.core.local.ListingRevisions;
import dev.kv.core.local.LocalWatches;
import dev.kv.core.local.PastPage;
import dev.kv.core.local.Pins;
import dev.kv.core.local.Threads;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A store that keeps its entries in this process's memory, sorted by key. Fast and thread-safe, but
 * everything is lost when the process ends: meant for tests and throwaway use.
 *
 * <p>Revisions follow etcd's rules: the store starts at revision 1, and each write that changes
 * something advances it by one, a delete of many keys included.
 */
public final class MemoryStore extends AbstractKvStore {

  private static final int DEFAULT_HISTORY_LIMIT = 10_000;

  private final ConcurrentNavigableMap<String, KeyValue> entries =
      new ConcurrentSkipListMap<>(Keys.ORDER);

  /** Writers take turns, so that each gets a revision of its own; readers never wait. */
  private final Object writeLock = new Object();

  /** When keys with a time to live expire; guarded by the write lock. */
  private final Map<String, ScheduledFuture<?>> expiries = new HashMap<>();

  private final ScheduledThreadPoolExecutor expirer = newExpirer();

  /** The latest changes, for watches that start from a past revision; under the write lock. */
  private final RecentChanges history;

  private final LocalWatches watches = new LocalWatches("kv-memory-watch");

  /** The ranges that paged listings read their later pages from. */
  private final Pins<RangeAt, Listed> listings;

  private volatile long revision = 1;

  /** A store that keeps the last 10,000 changes for watches that start in the past. */
  public MemoryStore() {
    this(DEFAULT_HISTORY_LIMIT);
  }

  /** A store that keeps the last {@code historyLimit} changes for watches. */
  public MemoryStore(int historyLimit) {
    this(historyLimit, null, Pins.LEASE);
  }

  private MemoryStore(int historyLimit, MeterRegistry metrics, Duration listingLease) {
    super("the memory store", "memory", metrics);
    this.history = new RecentChanges(historyLimit);
    // A copy is only memory: released, it is left to the garbage collector.
    this.listings = new Pins<>(listingLease, Pins.CAP, copy -> {}, "kv-memory-listings");
  }

  /** A store with metrics, or with a history limit of its own. */
  public static Builder builder() {
    return new Builder();
  }

  /** How to make a memory store. */
  public static final class Builder {
    private int historyLimit = DEFAULT_HISTORY_LIMIT;
    private MeterRegistry metrics;
    private Duration listingLease = Pins.LEASE;

    private Builder() {}

    /** How many of the latest changes to keep for watches that start in the past: 10,000. */
    public Builder historyLimit(int historyLimit) {
      this.historyLimit = History.requireLimit(historyLimit);
      return this;
    }

    /**
     * Where to measure the store's operations (see {@link AbstractKvStore}); null, the default, for
     * nowhere.
     */
    public Builder metrics(MeterRegistry metrics) {
      this.metrics = metrics;
      return this;
    }

    /** For tests: how long a listing's range stays readable after its last page. */
    Builder listingLease(Duration listingLease) {
      this.listingLease = listingLease;
      return this;
    }

    public MemoryStore build() {
      return new MemoryStore(historyLimit, metrics, listingLease);
    }
  }

  private volatile boolean closed;

  @Override
  protected CompletableFuture<Optional<KeyValue>> doGet(String key, ReadConsistency consistency) {
    return answer(() -> Optional.ofNullable(entries.get(key)));
  }

  @Override
  protected CompletableFuture<Long> doSet(String key, String value, long ttlSeconds) {
    return answer(
        () -> {
          synchronized (writeLock) {
            return put(key, value, ttlSeconds);
          }
        });
  }

  @Override
  protected CompletableFuture<Swap> doSetIf(
      String key, String value, long expectedModRevision, long ttlSeconds) {
    return swap(key, expectedModRevision, () -> put(key, value, ttlSeconds));
  }

  @Override
  protected CompletableFuture<Swap> doDeleteIf(String key, long expectedModRevision) {
    return swap(key, expectedModRevision, () -> deleteKeys(List.of(key)).revision());
  }

  /** Applies {@code write} if the key has the expected revision: see {@link CompareAndSet}. */
  private CompletableFuture<Swap> swap(
      String key, long expectedModRevision, CompareAndSet.Write<RuntimeException> write) {
    return answer(
        () -> {
          synchronized (writeLock) {
            return CompareAndSet.swap(
                Optional.ofNullable(entries.get(key)), expectedModRevision, revision, write);
          }
        });
  }

  /**
   * Writes one entry at the next revision, to expire after {@code ttlSeconds} unless 0; the caller
   * holds the write lock.
   */
  private long put(String key, String value, long ttlSeconds) {
    long written = revision + 1;
    KeyValue previous = entries.get(key);
    entries.put(
        key,
        previous == null
            ? new KeyValue(key, value, written, written, 1)
            : new KeyValue(key, value, previous.createRevision(), written, previous.version() + 1));
    revision = written;
    record(new WatchEvent(WatchEvent.Type.PUT, entries.get(key)));
    ScheduledFuture<?> replaced = expiries.remove(key);
    if (replaced != null) {
      replaced.cancel(false);
    }
    if (ttlSeconds > 0) {
      expiries.put(key, expirer.schedule(() -> expire(key, written), ttlSeconds, TimeUnit.SECONDS));
    }
    return written;
  }

  /** Deletes {@code key} if the write that gave it a time to live is still its last one. */
  private void expire(String key, long writtenAt) {
    synchronized (writeLock) {
      KeyValue current = entries.get(key);
      if (current != null && current.modRevision() == writtenAt) {
        deleteKeys(List.of(key));
      }
    }
  }

  /** Removes one entry and its expiry; the caller holds the write lock. */
  private boolean remove(String key) {
    ScheduledFuture<?> expiry = expiries.remove(key);
    if (expiry != null) {
      expiry.cancel(false);
    }
    return entries.remove(key) != null;
  }

  @Override
  protected CompletableFuture<Deleted> doDelete(String key) {
    return answer(
        () -> {
          synchronized (writeLock) {
            return deleteKeys(List.of(key));
          }
        });
  }

  @Override
  protected CompletableFuture<Deleted> doDeletePrefix(String prefix) {
    return answer(
        () -> {
          synchronized (writeLock) {
            List<String> under = List.copyOf(between(prefix, Keys.prefixEnd(prefix)).keySet());
            return deleteKeys(under);
          }
        });
  }

  /**
   * Deletes those of {@code keys} that exist, all at one new revision (none if nothing existed);
   * the caller holds the write lock.
   */
  private Deleted deleteKeys(List<String> keys) {
    List<String> removed = keys.stream().filter(this::remove).toList();
    if (!removed.isEmpty()) {
      revision++;
      removed.forEach(key -> record(WatchEvent.deleted(key, revision)));
    }
    return new Deleted(removed.size(), revision);
  }

  /**
   * {@inheritDoc}
   *
   * <p>A past revision can be read only where a listing's first page left off: a first page with
   * more keys after it copies its range, kept for later pages as {@link Pins} say.
   */
  @Override
  protected CompletableFuture<Page> doList(ListQuery query) {
    return answer(
        () -> {
          RangeAt range = new RangeAt(query.revision(), query.from(), query.to());
          if (query.revision() != 0) {
            Optional<Pins<RangeAt, Listed>.Use> pinned = listings.use(range);
            if (pinned.isPresent()) {
              try (Pins<RangeAt, Listed>.Use use = pinned.get()) {
                return use.value().page(query);
              }
            }
          }
          // Under the write lock, the page is the store as of one revision.
          synchronized (writeLock) {
            if (query.revision() > revision) {
              throw ListingRevisions.beyond(query.revision(), revision);
            }
            if (query.revision() != 0 && query.revision() != revision) {
              return PastPage.read(
                  query,
                  revision,
                  between(query.pageStart(), query.to()).values().stream()
                      .map(entry -> new PastPage.Current(entry, ttlSeconds(entry.key())))
                      .iterator(),
                  history,
                  listings.lease());
            }
            Page.Builder page = Page.builder(query);
            for (KeyValue entry : between(query.pageStart(), query.to()).values()) {
              if (!page.add(entry, ttlSeconds(entry.key()))) {
                listings.pinIfAbsent(
                    new RangeAt(revision, query.from(), query.to()),
                    () -> Listed.copy(between(query.from(), query.to()).values(), expiries));
                return page.build(true, revision);
              }
            }
            return page.build(false, revision);
          }
        });
  }

  /** The seconds {@code key} has left to live, 0 for none; under the write lock. */
  private long ttlSeconds(String key) {
    ScheduledFuture<?> expiry = expiries.get(key);
    return expiry == null ? 0 : Ttl.secondsLeft(Duration.ofNanos(expiry.getDelay(NANOSECONDS)));
  }

  /** What a listing's range is pinned by: the revision it was read at, and its bounds. */
  private record RangeAt(long revision, String from, String to) {}

  /** The keys in [from, to); an empty {@code to} has no end. */
  private NavigableMap<String, KeyValue> between(String from, String to) {
    if (to.isEmpty()) {
      return entries.tailMap(from, true);
    }
    if (Keys.ORDER.compare(from, to) >= 0) {
      return entries.subMap(from, true, from, false);
    }
    return entries.subMap(from, true, to, false);
  }

  @Override
  public Watch watch(WatchQuery query, WatchListener listener) {
    synchronized (writeLock) {
      if (closed) {
        return watches.failed(query, listener, closedError());
      }
      return watches.open(query, listener, revision, () -> history);
    }
  }

  /** Keeps {@code event} in the history and hands it to the watches; under the write lock. */
  private void record(WatchEvent event) {
    history.add(event);
    watches.publish(event);
  }

  @Override
  public CompletableFuture<StoreStatus> status() {
    return CompletableFuture.completedFuture(new StoreStatus("memory", revision));
  }

  @Override
  public CompletableFuture<Void> checkHealth() {
    return answer(() -> null);
  }

  private static ScheduledThreadPoolExecutor newExpirer() {
    ScheduledThreadPoolExecutor expirer =
        new ScheduledThreadPoolExecutor(1, Threads.daemon("kv-memory-expiry"));
    // An overwritten key's old expiry leaves the queue at once, not when it would have fired.
    expirer.setRemoveOnCancelPolicy(true);
    return expirer;
  }

  /** Runs {@code operation} at once, turning a rejected request into a failed future. */
  private <T> CompletableFuture<T> answer(Supplier<T> operation) {
    try {
      if (closed) {
        throw closedError();
      }
      return CompletableFuture.completedFuture(operation.get());
    } catch (RuntimeException e) {
      // KvException for a rejected request; anything else is a bug or a race with close().
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public void close() {
    synchronized (writeLock) {
      closed = true;
      watches.close(closedError());
      history.clear();
    }
    listings.close();
    expirer.shutdownNow();
    entries.clear();
  }
}
