package dev.kv.core;

import java.util.Objects;

/**
 * The one error type of the storage port. Its {@link Code} says what went wrong; its message says
 * it to a person.
 */
public class KvException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * What went wrong. Each code has the name and the meaning of the gRPC status code of the same
   * name, so that errors cross the wire unchanged.
   */
  public enum Code {
    /** The request cannot be served as given, for example an empty key. */
    INVALID_ARGUMENT,
    /** The key does not exist. */
    NOT_FOUND,
    /** The store cannot be reached right now; the request may be retried. */
    UNAVAILABLE,
    /** The store did not answer in time; a write may or may not have been applied. */
    DEADLINE_EXCEEDED,
    /**
     * The store holds something this request cannot work with, for example a value another etcd
     * client wrote that is not text.
     */
    FAILED_PRECONDITION,
    /** A revision asked for is no longer kept; the message names the oldest one that is. */
    OUT_OF_RANGE,
    /** The caller gave up on the request. */
    CANCELLED,
    /** The request carries no valid credentials: a missing or wrong token or password. */
    UNAUTHENTICATED,
    /** The credentials are valid, but do not allow this request. */
    PERMISSION_DENIED,
    /** A limit was reached: too large a request, or too many calls or watches at once. */
    RESOURCE_EXHAUSTED,
    /** A failure in the store that the caller cannot correct. */
    INTERNAL,
    /**
     * The store's data could not be read back: its files are damaged. The message names where; the
     * data must come from a backup.
     */
    DATA_LOSS
  }

  private final Code code;

  public KvException(Code code, String message) {
    this(code, message, null);
  }

  public KvException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = Objects.requireNonNull(code, "code");
  }

  /** The error for a key that does not exist. */
  public static KvException notFound(String key) {
    return new KvException(Code.NOT_FOUND, "key not found: " + key);
  }

  /**
   * The error for reading one key whose value another etcd client wrote and is not UTF-8 text: a
   * read of one key gives text, and must not alter it.
   */
  public static KvException notText(KeyValue entry) {
    return new KvException(
        Code.FAILED_PRECONDITION,
        "the value of key '"
            + entry.key()
            + "' is not UTF-8 text ("
            + entry.binaryValue().length
            + " bytes, written by another etcd client); kv reads and writes text only");
  }

  public Code code() {
    return code;
  }
}
