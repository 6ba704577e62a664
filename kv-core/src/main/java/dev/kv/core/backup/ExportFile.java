package dev.kv.core.backup;

import com.google.gson.JsonObject;
import dev.kv.core.Keys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;

/**
 * An export file, read whole and found sound: a header this code reads, lines that all parse, in
 * key order, and a trailer whose count and checksum match them. Only then is it given to an import,
 * so that a damaged file is refused before anything is written.
 */
public final class ExportFile {

  /** Receives the keys of the file, in order, for as long as it answers true. */
  @FunctionalInterface
  public interface EntryConsumer {
    boolean accept(ExportedEntry entry) throws IOException;
  }

  private final Path path;
  private final String name;
  private final ExportHeader header;
  private final long count;
  private final Optional<String> mismatch;

  private ExportFile(
      Path path, String name, ExportHeader header, long count, Optional<String> mismatch) {
    this.path = path;
    this.name = name;
    this.header = header;
    this.count = count;
    this.mismatch = mismatch;
  }

  /** {@link #check(Path, String, boolean)}, naming the file by its path. */
  public static ExportFile check(Path file, boolean force) throws IOException {
    return check(file, file.toString(), force);
  }

  /**
   * Reads {@code file} whole and checks it.
   *
   * @param name what to call the file in messages
   * @param force whether to take a file whose lines all parse although their count or checksum does
   *     not match its trailer, or it has none; {@link #mismatch} then says what did not match
   * @throws ExportFileException saying what is wrong with the file
   * @throws IOException when the file cannot be read
   */
  public static ExportFile check(Path file, String name, boolean force) throws IOException {
    try (LineReader lines = new LineReader(Files.newInputStream(file))) {
      return new Checker(lines, name).check(file, force);
    } catch (NoSuchFileException e) {
      throw new ExportFileException("no such file: " + name, false);
    }
  }

  public ExportHeader header() {
    return header;
  }

  /** The number of keys the file holds. */
  public long count() {
    return count;
  }

  /** What did not match in a file taken by force; empty for a sound file. */
  public Optional<String> mismatch() {
    return mismatch;
  }

  /** Gives each key of the file to {@code consumer}, in key order, until it answers false. */
  public void forEach(EntryConsumer consumer) throws IOException {
    try (LineReader lines = new LineReader(Files.newInputStream(path))) {
      lines.next();
      for (byte[] line = lines.next(); line != null; line = lines.next()) {
        JsonObject object = ExportFormat.parse(line);
        if (ExportFormat.isTrailer(object)) {
          return;
        }
        if (!consumer.accept(ExportFormat.parseEntry(object))) {
          return;
        }
      }
    } catch (IllegalArgumentException e) {
      throw new IOException(name + " changed since it was checked", e);
    }
  }

  @Override
  public String toString() {
    return name;
  }

  /** One reading of a file, line by line, digesting what precedes the trailer. */
  private static final class Checker {
    private final LineReader lines;
    private final String name;
    private final MessageDigest sha256 = Exporter.sha256();

    Checker(LineReader lines, String name) {
      this.lines = lines;
      this.name = name;
    }

    ExportFile check(Path file, boolean force) throws IOException {
      ExportHeader header = header();
      long count = 0;
      String lastKey = null;
      String binaryKey = null;
      JsonObject trailer = null;
      for (byte[] line = next(); line != null; line = next()) {
        if (trailer != null) {
          throw damaged("line " + lines.lineNumber() + " follows the trailer line");
        }
        JsonObject object = parse(line);
        if (ExportFormat.isTrailer(object)) {
          trailer = object;
          continue;
        }
        sha256.update(line);
        sha256.update((byte) '\n');
        ExportedEntry entry;
        try {
          entry = ExportFormat.parseEntry(object);
        } catch (IllegalArgumentException e) {
          throw damaged("line " + lines.lineNumber() + " is not a key's: " + e.getMessage());
        }
        String key = entry.entry().key();
        if (lastKey != null && Keys.ORDER.compare(lastKey, key) >= 0) {
          throw damaged("line " + lines.lineNumber() + " is out of key order ('" + key + "')");
        }
        if (binaryKey == null && !entry.entry().isText()) {
          binaryKey = key;
        }
        lastKey = key;
        count++;
      }
      if (trailer != null && !lines.endedWithNewline()) {
        throw damaged("its trailer line is cut short");
      }
      Optional<String> mismatch = mismatch(trailer, count);
      if (mismatch.isPresent() && !force) {
        throw new ExportFileException(name + " " + mismatch.get(), true);
      }
      if (binaryKey != null) {
        throw new ExportFileException(
            name
                + ": the value of key '"
                + binaryKey
                + "' is not UTF-8 text (value_base64, written by another etcd client); kv"
                + " writes text only, so this file cannot be imported",
            false);
      }
      return new ExportFile(file, name, header, count, mismatch);
    }

    private ExportHeader header() throws IOException {
      byte[] first = next();
      if (first == null) {
        throw new ExportFileException(name + " is empty: it is not a kv export", false);
      }
      JsonObject object;
      try {
        object = ExportFormat.parse(first);
      } catch (IllegalArgumentException e) {
        throw notAnExport();
      }
      if (!ExportFormat.isHeader(object)) {
        throw notAnExport();
      }
      sha256.update(first);
      sha256.update((byte) '\n');
      try {
        return ExportFormat.parseHeader(object);
      } catch (IllegalArgumentException e) {
        throw new ExportFileException(name + ": its header line: " + e.getMessage(), false);
      }
    }

    private Optional<String> mismatch(JsonObject trailer, long count) {
      if (trailer == null) {
        return Optional.of("is truncated: it ends after " + count + " keys, without its trailer");
      }
      long said;
      String sum;
      try {
        said = ExportFormat.trailerCount(trailer);
        sum = ExportFormat.trailerSha256(trailer);
      } catch (IllegalArgumentException e) {
        throw damaged("its trailer line: " + e.getMessage());
      }
      if (said != count) {
        return Optional.of(
            "is damaged or edited: its trailer counts " + said + " keys, but it holds " + count);
      }
      if (!HexFormat.of().formatHex(sha256.digest()).equalsIgnoreCase(sum)) {
        return Optional.of("is damaged or edited: its lines do not match their SHA-256 checksum");
      }
      return Optional.empty();
    }

    private byte[] next() throws IOException {
      try {
        return lines.next();
      } catch (IllegalArgumentException e) {
        if (lines.lineNumber() == 0) {
          throw notAnExport();
        }
        throw damaged("line " + (lines.lineNumber() + 1) + " " + e.getMessage());
      }
    }

    private JsonObject parse(byte[] line) {
      try {
        return ExportFormat.parse(line);
      } catch (IllegalArgumentException e) {
        String cut = lines.endedWithNewline() ? "" : " (the file is cut short there)";
        throw damaged("line " + lines.lineNumber() + ": " + e.getMessage() + cut);
      }
    }

    private ExportFileException damaged(String what) {
      return new ExportFileException(name + " is damaged: " + what, false);
    }

    private ExportFileException notAnExport() {
      return new ExportFileException(
          name + " is not a kv export: its first line is not a kv-export header", false);
    }
  }
}
