package dev.kv.core.embedded;

import dev.kv.core.SnapshotInfo;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * The figures the README gives for snapshots, measured by hand, one step a process so that each
 * step's peak memory is its own: {@code load DIR N}, {@code snapshot DIR FILE}, {@code restore FILE
 * DIR}. Prints the time and the process's peak resident memory (VmHWM).
 */
final class SnapshotFigures {

  private static final String ALPHABET =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

  private SnapshotFigures() {}

  public static void main(String[] args) throws Exception {
    long start = System.nanoTime();
    String result =
        switch (args[0]) {
          case "load" -> load(Path.of(args[1]), Integer.parseInt(args[2]));
          case "snapshot" -> snapshot(Path.of(args[1]), Path.of(args[2]));
          case "restore" -> restore(Path.of(args[1]), Path.of(args[2]));
          default -> throw new IllegalArgumentException("load, snapshot or restore");
        };
    System.out.printf(
        "%s: %s in %.1fs, peak memory %s%n",
        args[0], result, (System.nanoTime() - start) / 1e9, peakMemory());
  }

  private static String load(Path dir, int keys) {
    Random random = new Random(1);
    try (EmbeddedStore store = EmbeddedStore.open(dir)) {
      for (int batch = 0; batch < keys; batch += 10_000) {
        List<CompletableFuture<Long>> writes = new ArrayList<>();
        for (int i = batch; i < Math.min(keys, batch + 10_000); i++) {
          writes.add(store.set(String.format("key/%08d", i), randomValue(random)));
        }
        writes.forEach(CompletableFuture::join);
      }
    }
    return keys + " keys";
  }

  /** 100 random letters and digits: values that compress about as little as text does. */
  private static String randomValue(Random random) {
    char[] value = new char[100];
    for (int i = 0; i < value.length; i++) {
      value[i] = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
    }
    return new String(value);
  }

  private static String snapshot(Path dir, Path file) throws Exception {
    try (EmbeddedStore store = EmbeddedStore.open(dir);
        OutputStream out = Files.newOutputStream(file)) {
      SnapshotInfo info = store.snapshot(out).join();
      return "revision " + info.revision() + ", " + info.bytes() + " bytes";
    }
  }

  private static String restore(Path file, Path dir) throws Exception {
    try (InputStream in = Files.newInputStream(file)) {
      EmbeddedSnapshots.Restored restored = EmbeddedSnapshots.restore(in, dir, false);
      return "revision " + restored.revision() + ", " + restored.keys() + " keys";
    }
  }

  private static String peakMemory() throws Exception {
    return Files.readAllLines(Path.of("/proc/self/status")).stream()
        .filter(line -> line.startsWith("VmHWM:"))
        .map(line -> line.substring(6).strip())
        .findFirst()
        .orElse("unknown");
  }
}
