package dev.kv.core.embedded;

import dev.kv.core.Watch;
import java.util.concurrent.CompletableFuture;

/**
 * A watch that another thread opens, for one whose start must be read from disk first: it starts
 * once that watch does, and closing it closes that watch, now or once it is open.
 */
final class OpeningWatch implements Watch {

  private final CompletableFuture<Watch> opened;

  OpeningWatch(CompletableFuture<Watch> opened) {
    this.opened = opened;
  }

  @Override
  public CompletableFuture<Long> started() {
    return opened.thenCompose(Watch::started);
  }

  @Override
  public void close() {
    opened.thenAccept(Watch::close);
  }
}
