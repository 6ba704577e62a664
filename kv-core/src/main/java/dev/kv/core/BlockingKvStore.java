package dev.kv.core;

import java.io.OutputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A synchronous view of a {@link KvStore}: each call waits for the store's answer and reports a
 * failure by throwing its {@link KvException}.
 */
public final class BlockingKvStore {

  private final KvStore store;

  public BlockingKvStore(KvStore store) {
    this.store = store;
  }

  /** Returns the value stored under {@code key}, or an empty optional when there is none. */
  public Optional<String> get(String key) {
    return await(store.get(key)).map(KeyValue::value);
  }

  /** Returns the value stored under {@code key}, as up to date as {@code consistency} asks. */
  public Optional<String> get(String key, ReadConsistency consistency) {
    return await(store.get(key, consistency)).map(KeyValue::value);
  }

  /** Returns the entry stored under {@code key}, revisions included. */
  public Optional<KeyValue> entry(String key) {
    return await(store.get(key));
  }

  /** Returns the entry stored under {@code key}, as up to date as {@code consistency} asks. */
  public Optional<KeyValue> entry(String key, ReadConsistency consistency) {
    return await(store.get(key, consistency));
  }

  /** Stores {@code value} under {@code key}, and returns the revision the write created. */
  public long set(String key, String value) {
    return await(store.set(key, value));
  }

  /** Stores {@code value} under {@code key} for {@code ttl}; returns the revision created. */
  public long set(String key, String value, Duration ttl) {
    return await(store.set(key, value, ttl));
  }

  /** Stores {@code value} only if the key's modification revision is {@code expected} now. */
  public Swap setIf(String key, String value, long expected) {
    return await(store.setIf(key, value, expected));
  }

  /** {@link #setIf(String, String, long)} with a time to live. */
  public Swap setIf(String key, String value, long expected, Duration ttl) {
    return await(store.setIf(key, value, expected, ttl));
  }

  /** Deletes {@code key} only if its modification revision is {@code expected} now. */
  public Swap deleteIf(String key, long expected) {
    return await(store.deleteIf(key, expected));
  }

  /** Deletes {@code key}; returns how many keys went (0 or 1) and the revision after. */
  public Deleted delete(String key) {
    return await(store.delete(key));
  }

  /** Deletes every key under {@code prefix}; returns how many went and the revision after. */
  public Deleted deletePrefix(String prefix) {
    return await(store.deletePrefix(prefix));
  }

  /** Lists one page of the keys {@code query} selects. */
  public Page list(ListQuery query) {
    return await(store.list(query));
  }

  /** Writes a snapshot of the whole store to {@code out}: see {@link KvStore#snapshot}. */
  public SnapshotInfo snapshot(OutputStream out) {
    return await(store.snapshot(out));
  }

  /** What the store says of itself: see {@link KvStore#status()}. */
  public StoreStatus status() {
    return await(store.status());
  }

  private static <T> T await(CompletableFuture<T> future) {
    try {
      return future.get();
    } catch (ExecutionException e) {
      throw asKvException(e.getCause());
    } catch (CancellationException e) {
      throw new KvException(KvException.Code.CANCELLED, "the request was cancelled", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      throw new KvException(KvException.Code.CANCELLED, "interrupted while waiting for the store");
    }
  }

  private static KvException asKvException(Throwable cause) {
    if (cause instanceof KvException kv) {
      // A fresh exception, so the stack trace shows the caller as well as the store.
      return new KvException(kv.code(), kv.getMessage(), kv);
    }
    return new KvException(KvException.Code.INTERNAL, String.valueOf(cause), cause);
  }
}
