package dev.kv.core.embedded;

import dev.kv.core.KvException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Why a data directory is not opened, worded one way for every check that refuses it. */
final class Refusal {

  private Refusal() {}

  static KvException of(Path dir, String reason) {
    return of(dir, reason, null);
  }

  private static KvException of(Path dir, String reason, Throwable cause) {
    return new KvException(
        KvException.Code.FAILED_PRECONDITION,
        "cannot open the data directory " + dir + ": " + reason,
        cause);
  }

  static KvException inUse(Path dir) {
    return of(
        dir,
        "it is in use by another process (or by another store in this one); "
            + "only one may open a data directory at a time",
        new InUse());
  }

  /** Whether {@code refusal} says the directory is in use. */
  static boolean inUse(KvException refusal) {
    return refusal.getCause() instanceof InUse;
  }

  /** The mark of {@link #inUse(Path)}, for callers that say what to do instead. */
  private static final class InUse extends Exception {
    private static final long serialVersionUID = 1L;

    InUse() {
      super("in use", null, false, false);
    }
  }

  /** What a failed file operation means, in a few words a person can act on. */
  static String describe(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied (" + e.getMessage() + ")";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or directory (" + e.getMessage() + ")";
    }
    if (e instanceof FileSystemException fs && fs.getReason() != null) {
      return fs.getReason() + " (" + fs.getFile() + ")";
    }
    return String.valueOf(e.getMessage());
  }
}
