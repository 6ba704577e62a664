package dev.kv.server;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * What a test opened, closed when it ends (a field marked {@code @AutoClose}): the last added
 * first, as try-with-resources would, and every one even when one fails. The first failure is
 * thrown, with the others suppressed in it.
 *
 * <p>A server process goes before everything else ({@link #addToCloseFirst}): its clients then
 * close at once, whatever state it was left in, instead of waiting out their grace periods.
 */
// Its close() throws what the resources' closes throw, InterruptedException among them: it is
// closed by JUnit, never in a try-with-resources.
@SuppressWarnings("try")
final class Closer implements AutoCloseable {

  private final Deque<AutoCloseable> first = new ArrayDeque<>();
  private final Deque<AutoCloseable> rest = new ArrayDeque<>();

  /** Closes {@code resource} before everything added earlier. */
  synchronized <T extends AutoCloseable> T add(T resource) {
    rest.push(resource);
    return resource;
  }

  /** Closes {@code resource} before everything added with {@link #add}, whenever they were. */
  synchronized <T extends AutoCloseable> T addToCloseFirst(T resource) {
    first.push(resource);
    return resource;
  }

  @Override
  public synchronized void close() throws Exception {
    Exception failure = null;
    for (Deque<AutoCloseable> resources : List.of(first, rest)) {
      while (!resources.isEmpty()) {
        try {
          resources.pop().close();
        } catch (Exception e) {
          if (failure == null) {
            failure = e;
          } else {
            failure.addSuppressed(e);
          }
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
