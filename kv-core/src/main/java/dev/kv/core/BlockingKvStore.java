package dev.kv.core;

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

  /** Stores {@code value} under {@code key}. */
  public void set(String key, String value) {
    await(store.set(key, value));
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
