package dev.kv.core;

/**
 * A key and the value stored under it.
 *
 * @param key the key, never empty
 * @param value the value, possibly empty
 */
public record KeyValue(String key, String value) {

  public KeyValue {
    Keys.requireValid(key);
    Keys.requireValue(value);
  }
}
