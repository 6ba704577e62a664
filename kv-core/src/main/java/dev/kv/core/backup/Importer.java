package dev.kv.core.backup;

import dev.kv.core.KeyValue;
import dev.kv.core.Keys;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.ListQuery;
import dev.kv.core.Listing;
import dev.kv.core.Swap;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writes the keys of a checked {@link ExportFile} to a store, many writes in flight at once, each
 * key with the time to live it had left when exported. Revisions are the target's own: a store
 * gives each write the next of its revisions.
 *
 * <pre>{@code
 * ExportFile file = ExportFile.check(path, false);
 * Importer.Result result = Importer.into(store).onConflict(OnConflict.SKIP).write(file);
 * }</pre>
 *
 * <p>It waits for the store, so call it on a thread that may wait.
 */
public final class Importer {

  /** What to do with a key of the file that the target holds already. */
  public enum OnConflict {
    /** Write the file's value over it. */
    OVERWRITE,
    /** Keep the target's, with a compare-and-set that writes only a key that is absent. */
    SKIP,
    /** Write nothing when any key of the file exists in the target: checked before writing. */
    FAIL
  }

  /** What an import did. */
  public record Result(long written, long skipped, Duration took) {}

  /** The writes in flight unless another number is asked for. */
  public static final int DEFAULT_WINDOW = 512;

  /**
   * The bytes of keys and values in flight unless another number is asked for: 1 MiB, within the
   * share of one connection in what kv-server takes in progress (2 MiB of 8 MiB by default), which
   * it refuses beyond with RESOURCE_EXHAUSTED.
   */
  public static final long DEFAULT_WINDOW_BYTES = 1 << 20;

  private final KvStore store;
  private String target;
  private OnConflict onConflict = OnConflict.FAIL;
  private int window = DEFAULT_WINDOW;
  private long windowBytes = DEFAULT_WINDOW_BYTES;

  private Importer(KvStore store) {
    this.store = Objects.requireNonNull(store, "store");
    this.target = store.toString();
  }

  /** An import into {@code store}, refusing keys it holds already unless told otherwise. */
  public static Importer into(KvStore store) {
    return new Importer(store);
  }

  public Importer onConflict(OnConflict onConflict) {
    this.onConflict = Objects.requireNonNull(onConflict, "onConflict");
    return this;
  }

  /** What messages call the store (its name unless given), such as "kv-server at HOST:PORT". */
  public Importer target(String target) {
    this.target = Objects.requireNonNull(target, "target");
    return this;
  }

  /**
   * Keeps at most {@code writes} writes in flight, and at most {@code bytes} bytes of keys and
   * values (one write at least, however large).
   */
  public Importer window(int writes, long bytes) {
    if (writes < 1 || bytes < 1) {
      throw new IllegalArgumentException(
          "a window holds at least one write and one byte, not " + writes + " and " + bytes);
    }
    this.window = writes;
    this.windowBytes = bytes;
    return this;
  }

  /**
   * Writes every key of {@code file}.
   *
   * @throws ImportConflictException before writing anything, when {@link OnConflict#FAIL} finds a
   *     key of the file in the store
   * @throws KvException with the store's code when a write fails, naming the key and how many were
   *     written before the import stopped
   * @throws IOException when the file cannot be read again
   */
  public Result write(ExportFile file) throws IOException {
    long start = System.nanoTime();
    if (onConflict == OnConflict.FAIL) {
      refuseConflicts(file);
    }
    Writes writes = new Writes();
    file.forEach(writes::start);
    writes.finish();
    return new Result(
        writes.written.get(), writes.skipped.get(), Duration.ofNanos(System.nanoTime() - start));
  }

  /** Fails naming the first key of {@code file} that the store holds. */
  private void refuseConflicts(ExportFile file) throws IOException {
    StoreKeys held = new StoreKeys();
    file.forEach(
        exported -> {
          String key = exported.entry().key();
          if (held.contains(key)) {
            throw new ImportConflictException(
                key,
                "key '" + key + "' of " + file + " exists in " + target + "; nothing was written");
          }
          return true;
        });
  }

  /**
   * The store's keys from the file's first on, a keys-only page at a time, all read at the revision
   * of the first page: merged with the file's keys, which come in the same order, rather than asked
   * for one by one.
   */
  private final class StoreKeys {
    private Listing pages;
    private List<KeyValue> page = List.of();
    private int next;

    /** Whether the store holds {@code key}, given keys in increasing order. */
    boolean contains(String key) {
      if (pages == null) {
        pages =
            Listing.of(
                store, target, ListQuery.range(key, "").withoutValues().limit(ListQuery.MAX_LIMIT));
      }
      while (true) {
        for (; next < page.size(); next++) {
          int order = Keys.ORDER.compare(page.get(next).key(), key);
          if (order >= 0) {
            return order == 0;
          }
        }
        if (!pages.hasNext()) {
          return false;
        }
        page = pages.next().entries();
        next = 0;
      }
    }
  }

  /**
   * The writes of an import: at most {@code window} in flight, and at most {@code windowBytes}
   * bytes of keys and values (or one write, however large), so that its memory is bounded whatever
   * the values weigh; the first failure stops it.
   */
  private final class Writes {
    final AtomicLong written = new AtomicLong();
    final AtomicLong skipped = new AtomicLong();
    private final AtomicReference<KvException> failure = new AtomicReference<>();
    private int inFlight;
    private long bytesInFlight;

    /** Starts writing {@code exported}; false once a write failed, to stop the import. */
    boolean start(ExportedEntry exported) {
      long bytes = exported.entry().byteSize();
      acquire(bytes);
      if (failure.get() != null) {
        release(bytes);
        return false;
      }
      String key = exported.entry().key();
      String value = exported.entry().value();
      // FAIL writes only absent keys too: one another writer made after the check stops it.
      CompletableFuture<Boolean> write =
          onConflict == OnConflict.OVERWRITE
              ? store.set(key, value, exported.ttl()).thenApply(revision -> true)
              : store.setIf(key, value, Swap.ABSENT, exported.ttl()).thenApply(Swap::applied);
      write.whenComplete(
          (applied, error) -> {
            if (error != null) {
              failure.compareAndSet(null, failed(key, error));
            } else if (applied) {
              written.incrementAndGet();
            } else if (onConflict == OnConflict.FAIL) {
              failure.compareAndSet(
                  null,
                  new ImportConflictException(
                      key, "key '" + key + "' was written to " + target + " during the import"));
            } else {
              skipped.incrementAndGet();
            }
            release(bytes);
          });
      return true;
    }

    /** Waits for the writes in flight; fails with the first that failed. */
    void finish() {
      synchronized (this) {
        while (inFlight > 0) {
          waitUninterruptibly();
        }
      }
      KvException failed = failure.get();
      if (failed instanceof ImportConflictException conflict) {
        throw conflict.adding("; " + written.get() + " keys were written before it");
      }
      if (failed != null) {
        throw new KvException(
            failed.code(),
            failed.getMessage()
                + "; "
                + written.get()
                + " keys were written (import the file again with overwrite to finish)",
            failed.getCause());
      }
    }

    private synchronized void acquire(long bytes) {
      while (inFlight > 0 && (inFlight >= window || bytesInFlight + bytes > windowBytes)) {
        waitUninterruptibly();
      }
      inFlight++;
      bytesInFlight += bytes;
    }

    private synchronized void release(long bytes) {
      inFlight--;
      bytesInFlight -= bytes;
      notifyAll();
    }

    private void waitUninterruptibly() {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KvException(KvException.Code.CANCELLED, "the import was interrupted", e);
      }
    }

    private KvException failed(String key, Throwable error) {
      Throwable cause =
          error instanceof CompletionException && error.getCause() != null
              ? error.getCause()
              : error;
      KvException.Code code =
          cause instanceof KvException kv ? kv.code() : KvException.Code.INTERNAL;
      return new KvException(
          code, "writing key '" + key + "' failed: " + cause.getMessage(), cause);
    }
  }
}
