package dev.kv.core;

/**
 * Receives what a watch sees, one call at a time and in revision order, on a thread of the store's
 * own: it must not block for long.
 */
public interface WatchListener {

  /**
   * A change to a watched key. A listener that throws ends the watch: it gets {@link #onError} with
   * {@link KvException.Code#INTERNAL}, and nothing more.
   */
  void onEvent(WatchEvent event);

  /**
   * The watch ended and will deliver nothing more: {@link KvException.Code#OUT_OF_RANGE} when the
   * start revision is no longer kept (the message names the oldest one that is), {@link
   * KvException.Code#RESOURCE_EXHAUSTED} when the listener fell too far behind the changes (the
   * message names the revision to watch again from; a watch through kv-server does so itself),
   * {@link KvException.Code#UNAVAILABLE} when the store itself was closed, or another error the
   * store could not recover from. Not called when the watch is closed.
   */
  void onError(KvException error);

  /**
   * The watch lost its connection and is resuming: changes may arrive late until {@link
   * #onResumed}, but none is lost.
   */
  default void onInterrupted() {}

  /** The watch is connected again after {@link #onInterrupted}; what it missed follows. */
  default void onResumed() {}
}
