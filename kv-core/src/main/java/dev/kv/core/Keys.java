package dev.kv.core;

/** The rules keys and values follow, the same for every store. */
public final class Keys {

  private Keys() {}

  /**
   * Checks that {@code key} can be stored.
   *
   * @throws KvException with {@link KvException.Code#INVALID_ARGUMENT} when it cannot
   */
  public static String requireValid(String key) {
    if (key == null || key.isEmpty()) {
      throw new KvException(KvException.Code.INVALID_ARGUMENT, "key must not be empty");
    }
    return key;
  }

  /**
   * Checks that {@code value} can be stored: any string, the empty one included, but not null.
   *
   * @throws KvException with {@link KvException.Code#INVALID_ARGUMENT} when it cannot
   */
  public static String requireValue(String value) {
    if (value == null) {
      throw new KvException(KvException.Code.INVALID_ARGUMENT, "value must not be null");
    }
    return value;
  }
}
