package dev.kv.core;

import java.util.Comparator;

/** The rules keys and values follow, the same for every store. */
public final class Keys {

  /**
   * The order of keys in every store: by Unicode code point, which is the order of their UTF-8
   * bytes, and so etcd's. (Java's own string order differs for characters beyond U+FFFF.)
   */
  public static final Comparator<String> ORDER =
      (a, b) -> {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
          int x = a.codePointAt(i);
          int y = b.codePointAt(j);
          if (x != y) {
            return Integer.compare(x, y);
          }
          i += Character.charCount(x);
          j += Character.charCount(y);
        }
        return Integer.compare(a.length() - i, b.length() - j);
      };

  private Keys() {}

  /**
   * The first key after every key that starts with {@code prefix}, or the empty string when no such
   * key exists (the prefix is empty, or made only of the highest code point).
   */
  public static String prefixEnd(String prefix) {
    int end = prefix.length();
    while (end > 0) {
      int last = prefix.codePointBefore(end);
      int start = end - Character.charCount(last);
      if (last < Character.MAX_CODE_POINT) {
        int next = last + 1;
        if (next >= Character.MIN_SURROGATE && next <= Character.MAX_SURROGATE) {
          next = Character.MAX_SURROGATE + 1;
        }
        return prefix.substring(0, start) + new String(Character.toChars(next));
      }
      end = start;
    }
    return "";
  }

  /**
   * Checks that {@code key} can be stored.
   *
   * @throws KvException with {@link KvException.Code#INVALID_ARGUMENT} when it cannot
   */
  public static String requireValid(String key) {
    if (key == null || key.isEmpty()) {
      throw new KvException(KvException.Code.INVALID_ARGUMENT, "key must not be empty");
    }
    return requireUnicode("key", key);
  }

  /**
   * Checks that {@code text} is well-formed: a lone half of a surrogate pair has no UTF-8 form, so
   * etcd and the wire would store something else than was written.
   */
  private static String requireUnicode(String what, String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new KvException(
            KvException.Code.INVALID_ARGUMENT,
            what + " is not valid Unicode text: a lone surrogate at index " + i);
      }
    }
    return text;
  }

  /**
   * Checks that {@code prefix} can select keys to delete: not empty, which would select them all.
   */
  public static String requireDeletablePrefix(String prefix) {
    if (prefix == null || prefix.isEmpty()) {
      throw new KvException(
          KvException.Code.INVALID_ARGUMENT,
          "a prefix to delete must not be empty: it would delete every key");
    }
    return prefix;
  }

  /**
   * Checks an expected modification revision: {@link Swap#ABSENT} or a revision, never negative.
   */
  public static long requireRevision(long revision) {
    if (revision < 0) {
      throw new KvException(
          KvException.Code.INVALID_ARGUMENT, "a revision must not be negative, not " + revision);
    }
    return revision;
  }

  /** Checks the revision a conditional delete expects: a key that exists has one of at least 1. */
  public static long requireExistingRevision(long revision) {
    if (revision < 1) {
      throw new KvException(
          KvException.Code.INVALID_ARGUMENT,
          "a conditional delete needs the key's revision, at least 1, not " + revision);
    }
    return revision;
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
    return requireUnicode("value", value);
  }
}
