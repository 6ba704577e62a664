package dev.kv.core.backup;

import dev.kv.core.KvException;

/**
 * A file that is not a whole export in {@link ExportFormat}: refused before anything is written,
 * with {@link KvException.Code#INVALID_ARGUMENT} and a message that names the file and the fault.
 */
public final class ExportFileException extends KvException {

  private static final long serialVersionUID = 1L;

  private final boolean forceable;

  ExportFileException(String message, boolean forceable) {
    super(Code.INVALID_ARGUMENT, message);
    this.forceable = forceable;
  }

  /**
   * Whether a forced import ({@link Importer#force}) takes the file anyway: its lines are all
   * whole, but their count or checksum does not match its trailer, or it has none.
   */
  public boolean forceable() {
    return forceable;
  }
}
