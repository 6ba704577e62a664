package dev.kv.core.backup;

import dev.kv.core.KvException;

/**
 * An import refused, before it wrote anything, because a key of the file exists in the target
 * ({@link Importer.OnConflict#FAIL}); code {@link KvException.Code#FAILED_PRECONDITION}.
 */
public final class ImportConflictException extends KvException {

  private static final long serialVersionUID = 1L;

  private final String key;

  ImportConflictException(String key, String message) {
    super(Code.FAILED_PRECONDITION, message);
    this.key = key;
  }

  /** The first key of the file that the target holds. */
  public String key() {
    return key;
  }
}
