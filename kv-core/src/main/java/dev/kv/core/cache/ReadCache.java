package dev.kv.core.cache;

import dev.kv.core.Deleted;
import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.ReadConsistency;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.StoreStatus;
import dev.kv.core.Swap;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Logger;

/**
 * A store in front of another that answers serializable reads from this process's memory, kept
 * coherent by a watch on every key. Everything else goes to the store behind it.
 *
 * <p>What a serializable read from the cache guarantees: never a value older than the last write
 * acknowledged through this cache (the cache forgets a key before it acknowledges a write to it); a
 * change made elsewhere is seen once the watch delivers it (on etcd, within milliseconds). A miss
 * is read linearizably from the store, and kept only if no change to the key arrived in the
 * meantime. While the watch is down, reads go to the store, and the cache starts empty when it is
 * back.
 *
 * <p>A value another etcd client wrote that is not text is never kept: the cache forgets its key
 * and keeps watching, so that a read of that key goes to the store, which refuses it (see {@link
 * KeyValue}).
 */
public final class ReadCache implements KvStore {

  private static final Logger logger = Logger.getLogger(ReadCache.class.getName());

  private final KvStore store;
  private final int capacity;
  private final ConcurrentHashMap<String, Slot> slots = new ConcurrentHashMap<>();

  /** Whether the watch runs, so that the cache may answer. */
  private volatile boolean live;

  /** Advances each time the cache starts over, so that a read from before is not kept after. */
  private final AtomicInteger generation = new AtomicInteger();

  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder evictions = new LongAdder();

  /** What this cache serves in a registry, and removes from it when closed. */
  private List<Meter> meters = List.of();

  private MeterRegistry registry;

  private volatile boolean closed;
  private volatile Watch watch;

  /** What the cache holds for a key. Compared by identity: each is a version of the slot. */
  private sealed interface Slot permits Known, Reading, Written {}

  /** The entry (or its absence) as of {@code revision}: answers reads. */
  private record Known(Optional<KeyValue> entry, long revision) implements Slot {}

  /** A miss being read from the store; a change that arrives meanwhile replaces it. */
  private static final class Reading implements Slot {}

  /** Written through this cache at {@code revision}: must be read again. */
  private record Written(long revision) implements Slot {}

  private ReadCache(KvStore store, int capacity) {
    this.store = store;
    this.capacity = capacity;
  }

  /** A cache of up to {@code capacity} keys in front of {@code store}, which it closes with it. */
  public static ReadCache over(KvStore store, int capacity) {
    return over(store, capacity, null);
  }

  /**
   * A cache as {@link #over(KvStore, int)} makes, measured in {@code metrics} unless it is null:
   * the counters {@code kv.cache.hits} (serializable reads answered from memory), {@code
   * kv.cache.misses} (those read from the store while the cache is live), {@code
   * kv.cache.evictions} (keys forgotten to make room), and the gauges {@code kv.cache.size} (keys
   * held) and {@code kv.cache.live} (1 while the cache answers, else 0). They leave the registry
   * when it closes.
   */
  public static ReadCache over(KvStore store, int capacity, MeterRegistry metrics) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
    }
    ReadCache cache = new ReadCache(store, capacity);
    if (metrics != null) {
      cache.serveMetrics(metrics);
    }
    cache.startWatching();
    return cache;
  }

  private void serveMetrics(MeterRegistry metrics) {
    registry = metrics;
    meters =
        List.of(
            counter("kv.cache.hits", "Serializable reads answered from memory", hits),
            counter("kv.cache.misses", "Serializable reads the cache had to ask the store", misses),
            counter("kv.cache.evictions", "Keys forgotten to make room for others", evictions),
            Gauge.builder("kv.cache.size", slots, Map::size)
                .description("Keys the cache holds")
                .register(metrics),
            Gauge.builder("kv.cache.live", this, cache -> cache.live ? 1 : 0)
                .description("1 while the cache answers serializable reads (its watch runs)")
                .register(metrics));
  }

  private FunctionCounter counter(String name, String description, LongAdder count) {
    return FunctionCounter.builder(name, count, LongAdder::sum)
        .description(description)
        .register(registry);
  }

  private void startWatching() {
    if (closed) {
      return;
    }
    Watch started =
        store.watch(
            WatchQuery.prefix(""),
            new WatchListener() {
              @Override
              public void onEvent(WatchEvent event) {
                apply(event);
              }

              @Override
              public void onInterrupted() {
                live = false;
              }

              @Override
              public void onResumed() {
                // The changes missed meanwhile follow, and update what is kept.
                live = !closed;
              }

              @Override
              public void onError(KvException error) {
                live = false;
                generation.incrementAndGet();
                slots.clear();
                if (!closed) {
                  logger.warning(
                      () ->
                          "the read cache's watch ended (" + error.getMessage() + "); again in 1s");
                  CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS)
                      .execute(() -> startWatching());
                }
              }
            });
    watch = started;
    // Reads cached from now on are followed by every later change.
    started.started().thenRun(() -> live = !closed);
  }

  /** A change seen by the watch: replaces what the cache holds for the key, unless newer. */
  private void apply(WatchEvent event) {
    String key = event.entry().key();
    if (!event.entry().isText()) {
      slots.remove(key);
      return;
    }
    Known known =
        new Known(
            event.type() == WatchEvent.Type.PUT ? Optional.of(event.entry()) : Optional.empty(),
            event.revision());
    slots.computeIfPresent(
        key,
        (k, slot) -> {
          if (slot instanceof Reading) {
            // The watch may lag behind writes acknowledged already: neither this change nor the
            // read in flight is sure to be the latest, so the next read goes to the store.
            return new Reading();
          }
          return revisionOf(slot) > known.revision() ? slot : known;
        });
  }

  private static long revisionOf(Slot slot) {
    if (slot instanceof Known known) {
      return known.revision();
    }
    return slot instanceof Written written ? written.revision() : 0;
  }

  @Override
  public CompletableFuture<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
    if (consistency != ReadConsistency.SERIALIZABLE) {
      return store.get(key, consistency);
    }
    if (!live) {
      // A member's own answer could miss a write this cache acknowledged.
      return store.get(key, ReadConsistency.LINEARIZABLE);
    }
    int reservedIn = generation.get();
    Slot slot = slots.get(key);
    if (slot instanceof Known known) {
      hits.increment();
      return CompletableFuture.completedFuture(known.entry());
    }
    misses.increment();
    Slot token = slot != null ? slot : reserve(key);
    return store
        .get(key, ReadConsistency.LINEARIZABLE)
        .thenApply(
            found -> {
              if (token != null && live && generation.get() == reservedIn) {
                keep(key, token, found);
              }
              return found;
            });
  }

  /**
   * Keeps what a miss read, unless a change to the key arrived meanwhile. A key found missing is
   * kept only as of a write through this cache: without a revision, an older change delivered late
   * could not be told from a newer one.
   */
  private void keep(String key, Slot token, Optional<KeyValue> found) {
    if (found.isPresent()) {
      slots.replace(key, token, new Known(found, found.get().modRevision()));
    } else if (token instanceof Written written) {
      slots.replace(key, token, new Known(found, written.revision()));
    } else {
      slots.remove(key, token);
    }
  }

  /** A slot for a miss, evicting another key when the cache is full. */
  private Slot reserve(String key) {
    if (slots.size() >= capacity) {
      Iterator<String> keys = slots.keySet().iterator();
      if (keys.hasNext() && slots.remove(keys.next()) != null) {
        evictions.increment();
      }
    }
    Reading reading = new Reading();
    Slot existing = slots.putIfAbsent(key, reading);
    return existing == null ? reading : existing;
  }

  /** Forgets {@code key} as of {@code revision}, before the write is acknowledged. */
  private void written(String key, long revision) {
    slots.computeIfPresent(
        key, (k, slot) -> revisionOf(slot) >= revision ? slot : new Written(revision));
  }

  @Override
  public CompletableFuture<Long> set(String key, String value, Duration ttl) {
    return store
        .set(key, value, ttl)
        .thenApply(
            revision -> {
              written(key, revision);
              return revision;
            });
  }

  @Override
  public CompletableFuture<Swap> setIf(
      String key, String value, long expectedModRevision, Duration ttl) {
    return store.setIf(key, value, expectedModRevision, ttl).thenApply(swap -> swapped(key, swap));
  }

  @Override
  public CompletableFuture<Swap> deleteIf(String key, long expectedModRevision) {
    return store.deleteIf(key, expectedModRevision).thenApply(swap -> swapped(key, swap));
  }

  private Swap swapped(String key, Swap swap) {
    if (swap.applied()) {
      written(key, swap.revision());
    }
    return swap;
  }

  @Override
  public CompletableFuture<Deleted> delete(String key) {
    return store
        .delete(key)
        .thenApply(
            deleted -> {
              written(key, deleted.revision());
              return deleted;
            });
  }

  @Override
  public CompletableFuture<Deleted> deletePrefix(String prefix) {
    return store
        .deletePrefix(prefix)
        .thenApply(
            deleted -> {
              slots.keySet().stream()
                  .filter(key -> key.startsWith(prefix))
                  .forEach(key -> written(key, deleted.revision()));
              return deleted;
            });
  }

  @Override
  public CompletableFuture<Page> list(ListQuery query) {
    return store.list(query);
  }

  @Override
  public Watch watch(WatchQuery query, WatchListener listener) {
    return store.watch(query, listener);
  }

  @Override
  public CompletableFuture<Void> checkHealth() {
    return store.checkHealth();
  }

  /** The snapshot of the store behind: the cache holds nothing a snapshot needs. */
  @Override
  public CompletableFuture<SnapshotInfo> snapshot(OutputStream out) {
    return store.snapshot(out);
  }

  /** The store's status, with this cache's size, capacity, hits and misses. */
  @Override
  public CompletableFuture<StoreStatus> status() {
    return store
        .status()
        .thenApply(
            status ->
                status.withCache(
                    new StoreStatus.Cache(size(), capacity, hits(), misses(), isLive())));
  }

  /** Whether the cache answers serializable reads now: its watch runs. */
  public boolean isLive() {
    return live;
  }

  /** How many reads the cache answered from memory, without the store, since it was made. */
  public long hits() {
    return hits.sum();
  }

  /**
   * How many serializable reads the cache sent to the store while it answered reads, since it was
   * made: the keys it did not hold.
   */
  public long misses() {
    return misses.sum();
  }

  /** How many keys the cache holds now. */
  public int size() {
    return slots.size();
  }

  @Override
  public void close() {
    closed = true;
    live = false;
    Watch running = watch;
    if (running != null) {
      running.close();
    }
    slots.clear();
    meters.forEach(meter -> registry.remove(meter));
    store.close();
  }
}
