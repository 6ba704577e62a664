package dev.kv.core.local;

import dev.kv.core.KeyValue;
import dev.kv.core.Swap;
import java.util.Optional;

/** Compare-and-set for the stores that apply their writes one at a time, in this process. */
public final class CompareAndSet {

  private CompareAndSet() {}

  /** A write that answers the revision it created. */
  public interface Write<E extends Exception> {
    long apply() throws E;
  }

  /**
   * Applies {@code write} if the key's entry, {@code current}, has the modification revision {@code
   * expected} ({@link Swap#ABSENT} when it does not exist); the caller keeps other writers out.
   *
   * @param revision the store's revision now, which a write that does not apply answers
   */
  public static <E extends Exception> Swap swap(
      Optional<KeyValue> current, long expected, long revision, Write<E> write) throws E {
    if (current.map(KeyValue::modRevision).orElse(Swap.ABSENT) != expected) {
      return new Swap(false, revision, current);
    }
    return new Swap(true, write.apply(), Optional.empty());
  }
}
