package dev.kv.launch;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A file that appears only once it is whole: written as {@code FILE.part}, forced to disk, then
 * renamed. A failed or interrupted write leaves no {@code FILE}, so a file of that name is never a
 * backup cut short.
 */
public final class WholeFile {

  /** What goes into the file. */
  @FunctionalInterface
  public interface Contents<T> {
    T writeTo(OutputStream out) throws IOException;
  }

  /** What reads the file back once it is written, before it takes its name. */
  @FunctionalInterface
  public interface Check<T> {
    /** Fails when {@code written}, which {@code contents} said {@code result} of, is not whole. */
    void check(Path written, T result) throws IOException;
  }

  private WholeFile() {}

  /**
   * Writes {@code contents} to {@code file}, replacing it if it exists.
   *
   * @return what {@code contents} returned
   */
  public static <T> T write(Path file, Contents<T> contents) throws IOException {
    return write(file, contents, (written, result) -> {});
  }

  /**
   * Writes {@code contents} to {@code file}, replacing it if it exists, once {@code check} passed
   * on what was written.
   *
   * @return what {@code contents} returned
   */
  public static <T> T write(Path file, Contents<T> contents, Check<? super T> check)
      throws IOException {
    Path part = file.resolveSibling(file.getFileName() + ".part");
    // Gone if the process is stopped meanwhile (Ctrl-C); renamed, and so kept, once whole.
    part.toFile().deleteOnExit();
    try {
      T result;
      try (FileChannel channel =
          FileChannel.open(
              part,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)) {
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
        result = contents.writeTo(out);
        out.flush();
        channel.force(true);
      }
      check.check(part, result);
      Files.move(part, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return result;
    } catch (IOException | RuntimeException e) {
      try {
        Files.deleteIfExists(part);
      } catch (IOException notDeleted) {
        e.addSuppressed(notDeleted);
      }
      throw e;
    }
  }
}
