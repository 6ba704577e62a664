package dev.kv.core.embedded;

import java.io.File;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Tries to lock a file from another process, as a second server would. */
final class LockProbe {

  private LockProbe() {}

  /** Whether a new JVM can lock {@code file} now. */
  static boolean canLock(Path file) throws Exception {
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    Process probe =
        new ProcessBuilder(
                List.of(
                    java,
                    "-cp",
                    System.getProperty("java.class.path"),
                    LockProbe.class.getName(),
                    file.toString()))
            .inheritIO()
            .start();
    if (!probe.waitFor(30, TimeUnit.SECONDS)) {
      probe.destroyForcibly();
      throw new AssertionError("the lock probe did not finish");
    }
    return probe.exitValue() == 0;
  }

  /** Exits 0 if it locked {@code args[0]}, 1 if another process holds it. */
  public static void main(String[] args) throws Exception {
    try (FileChannel channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock()) {
      System.exit(lock == null ? 1 : 0);
    }
  }
}
