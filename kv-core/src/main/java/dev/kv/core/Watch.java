package dev.kv.core;

import java.util.concurrent.CompletableFuture;

/** A running watch. Closing it stops the deliveries; it never stops by itself otherwise. */
public interface Watch extends AutoCloseable {

  /**
   * Completes once the store watches, with the first revision the watch delivers: every change made
   * by a write that begins after this completes is delivered. (A watch from a past revision
   * delivers the earlier ones too.)
   */
  CompletableFuture<Long> started();

  @Override
  void close();
}
