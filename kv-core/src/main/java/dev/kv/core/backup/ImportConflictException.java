package dev.kv.core.backup;

import dev.kv.core.KvException;

/**
 * An import refused because a key of the file exists in the target ({@link
 * Importer.OnConflict#FAIL}): before it wrote anything, or, when another writer made the key while
 * the import ran, at that key, the message saying how many keys were written; code {@link
 * KvException.Code#FAILED_PRECONDITION}.
 */
public final class ImportConflictException extends KvException {

  private static final long serialVersionUID = 1L;

  private final String key;

  ImportConflictException(String key, String message) {
    super(Code.FAILED_PRECONDITION, message);
    this.key = key;
  }

  /** The same refusal, its message followed by {@code more}. */
  ImportConflictException adding(String more) {
    return new ImportConflictException(key, getMessage() + more);
  }

  /** The first key of the file that the target holds. */
  public String key() {
    return key;
  }
}
