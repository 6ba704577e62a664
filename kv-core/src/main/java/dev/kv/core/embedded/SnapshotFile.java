package dev.kv.core.embedded;

import dev.kv.core.KvException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The file a snapshot of the embedded store is: the files of a RocksDB checkpoint, one after the
 * other, between a header that says what they are and a trailer that seals the whole.
 *
 * <pre>
 * kv embedded snapshot, version 1
 * revision 1234
 * file 000012.sst 5242880 9f86d081884c7d65...   (name, size in bytes, SHA-256 in hex; one a file)
 * file CURRENT 16 2c26b46b68ffc68f...
 * header 1b4f0e9851971998...                    (SHA-256 of the header's lines above)
 * (the files' bytes, in the order of the header)
 * end 60303ae22b998861...                       (SHA-256 of every byte before this line)
 * </pre>
 *
 * <p>Lines are UTF-8 and end with a newline. A reader checks the first line before anything else,
 * so another file is named for what it is; the header's checksum before it trusts a size or a name;
 * each file's checksum as it is read; and the trailer at the end. So a file cut short, a bit
 * flipped anywhere, and a file of another format each fail with their own message, and nothing read
 * from a file that fails is used. Files are streamed in both directions, never held whole.
 */
final class SnapshotFile {

  static final String MAGIC = "kv embedded snapshot, version 1";

  private static final String MAGIC_PREFIX = "kv embedded snapshot, version ";

  /** Checkpoint files are flat, with RocksDB's names: nothing that could leave the directory. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*");

  private static final int MAX_LINE = 512;
  private static final int MAX_FILES = 1_000_000;
  private static final int BUFFER = 64 * 1024;

  /** A file the snapshot holds, as its header lists it. */
  private record Entry(String name, long size, String sha256) {}

  /** What the header says: the store's revision and the files. */
  private record Header(long revision, List<Entry> files) {}

  /** What a whole snapshot that was read holds: the store's revision, its size, its files. */
  record Read(long revision, long bytes, List<String> files) {}

  private SnapshotFile() {}

  /**
   * Writes the files of {@code checkpoint} to {@code out}, as a snapshot at {@code revision}, and
   * flushes it.
   *
   * @return the bytes written
   */
  static long write(Path checkpoint, long revision, OutputStream out) throws IOException {
    List<Entry> files = new ArrayList<>();
    try (var listing = Files.list(checkpoint)) {
      for (Path file : listing.sorted().toList()) {
        files.add(new Entry(file.getFileName().toString(), Files.size(file), sha256Of(file)));
      }
    }
    CountingOutput counted = new CountingOutput(out);
    DigestOutputStream whole = new DigestOutputStream(counted, sha256());
    whole.write(header(revision, files));
    byte[] buffer = new byte[BUFFER];
    for (Entry entry : files) {
      long copied = 0;
      try (InputStream in = Files.newInputStream(checkpoint.resolve(entry.name()))) {
        for (int n; (n = in.read(buffer)) > 0 && copied < entry.size(); copied += n) {
          whole.write(buffer, 0, (int) Math.min(n, entry.size() - copied));
        }
      }
      if (copied != entry.size()) {
        throw new IOException("the checkpoint file " + entry.name() + " changed while written");
      }
    }
    counted.write(line("end " + hex(whole.getMessageDigest())));
    counted.flush();
    return counted.count;
  }

  private static byte[] header(long revision, List<Entry> files) {
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    header.writeBytes(line(MAGIC));
    header.writeBytes(line("revision " + revision));
    for (Entry entry : files) {
      header.writeBytes(line("file " + entry.name() + " " + entry.size() + " " + entry.sha256()));
    }
    MessageDigest digest = sha256();
    digest.update(header.toByteArray());
    header.writeBytes(line("header " + hex(digest)));
    return header.toByteArray();
  }

  /**
   * Reads a snapshot from {@code in}, writing its files into the directory {@code into}, and checks
   * every checksum.
   *
   * @throws KvException with {@link KvException.Code#INVALID_ARGUMENT} and a message that says what
   *     is wrong when the stream is not a whole snapshot: another format, cut short, or damaged;
   *     what was written into {@code into} is then to be thrown away
   */
  static Read read(InputStream in, Path into) throws IOException {
    Read read = read(in, name -> Files.newOutputStream(into.resolve(name)));
    // On disk before anyone is told the restore is done: a crash must not leave empty tables.
    for (String name : read.files()) {
      force(into.resolve(name), StandardOpenOption.WRITE);
    }
    force(into, StandardOpenOption.READ);
    return read;
  }

  /**
   * Reads a snapshot from {@code in} and checks every checksum, keeping nothing of it: whether a
   * file saved is whole, before it is trusted as a backup.
   *
   * @throws KvException as {@link #read(InputStream, Path)} does
   */
  static Read check(InputStream in) throws IOException {
    return read(in, name -> OutputStream.nullOutputStream());
  }

  /** Where the bytes of the snapshot's file {@code name} go. */
  private interface Sink {
    OutputStream open(String name) throws IOException;
  }

  private static Read read(InputStream in, Sink sink) throws IOException {
    CountingInput counted = new CountingInput(in);
    DigestInputStream whole = new DigestInputStream(counted, sha256());
    Header header = readHeader(whole, counted);
    byte[] buffer = new byte[BUFFER];
    for (Entry entry : header.files()) {
      MessageDigest digest = sha256();
      try (OutputStream out = sink.open(entry.name())) {
        long left = entry.size();
        while (left > 0) {
          int n = whole.read(buffer, 0, (int) Math.min(buffer.length, left));
          if (n < 0) {
            throw refused(
                "the snapshot is cut short: it ends inside "
                    + entry.name()
                    + ", after "
                    + (entry.size() - left)
                    + " of its "
                    + entry.size()
                    + " bytes");
          }
          digest.update(buffer, 0, n);
          out.write(buffer, 0, n);
          left -= n;
        }
      }
      if (!hex(digest).equals(entry.sha256())) {
        throw refused(
            "the snapshot is damaged: the bytes of "
                + entry.name()
                + " do not match their SHA-256");
      }
    }
    String expected = hex(whole.getMessageDigest());
    long trailerAt = counted.count;
    String trailer = readLine(counted, "trailer");
    if (!trailer.startsWith("end ")) {
      throw refused(
          "the snapshot is damaged: its trailer, at byte " + trailerAt + ", is unreadable");
    }
    if (!trailer.substring(4).equals(expected)) {
      throw refused("the snapshot is damaged: its bytes do not match the SHA-256 of its trailer");
    }
    if (counted.read() >= 0) {
      throw refused(
          "the snapshot is damaged: it goes on after its trailer, at byte " + counted.count);
    }
    return new Read(
        header.revision(), counted.count, header.files().stream().map(Entry::name).toList());
  }

  private static void force(Path path, StandardOpenOption mode) throws IOException {
    try (FileChannel channel = FileChannel.open(path, mode)) {
      channel.force(true);
    }
  }

  private static Header readHeader(InputStream in, CountingInput counted) throws IOException {
    String first = firstLine(in);
    MessageDigest digest = sha256();
    digest.update(line(first));
    long revision = -1;
    List<Entry> files = new ArrayList<>();
    while (true) {
      String line = readLine(in, "header");
      if (line.startsWith("header ")) {
        if (!line.substring(7).equals(hex(digest))) {
          throw refused("the snapshot is damaged: its header does not match its SHA-256");
        }
        break;
      }
      digest.update(line(line));
      String[] words = line.split(" ", -1);
      if (words.length == 2 && words[0].equals("revision") && revision < 0) {
        revision = number(words[1]);
      } else if (words.length == 4 && words[0].equals("file") && files.size() < MAX_FILES) {
        files.add(new Entry(words[1], number(words[2]), words[3]));
      } else {
        throw refused(
            "the snapshot is damaged: its header has an unreadable line, at byte "
                + (counted.count - line.length() - 1));
      }
    }
    // Trusted now that the checksum matched; checked all the same, since a name becomes a path.
    for (Entry entry : files) {
      if (!NAME.matcher(entry.name()).matches() || entry.size() < 0) {
        throw refused(
            "the snapshot is damaged: its header lists a file it cannot hold: '"
                + entry.name()
                + "'");
      }
    }
    if (revision < 1 || files.isEmpty()) {
      throw refused("the snapshot is damaged: its header names no revision or no file");
    }
    return new Header(revision, files);
  }

  /** The first line, if it is the one this format starts with; else what the stream seems to be. */
  private static String firstLine(InputStream in) throws IOException {
    ByteArrayOutputStream read = new ByteArrayOutputStream();
    int b;
    while (read.size() <= MAGIC.length() && (b = in.read()) >= 0 && b != '\n') {
      read.write(b);
    }
    String start = read.toString(StandardCharsets.UTF_8);
    if (start.equals(MAGIC)) {
      return start;
    }
    if (read.size() == 0) {
      throw refused("the file is empty, not a kv embedded snapshot");
    }
    if (start.startsWith(MAGIC_PREFIX)) {
      throw refused(
          "the file is a kv embedded snapshot of another version ("
              + start.substring(MAGIC_PREFIX.length())
              + "); restore it with the kv that wrote it");
    }
    if (start.startsWith("{")) {
      throw refused(
          "the file is not a kv embedded snapshot: it holds JSON lines, as kv export writes;"
              + " load it with kv import");
    }
    if (MAGIC.startsWith(start)) {
      throw refused("the snapshot is cut short: it ends inside its first line");
    }
    throw refused(
        "the file is not a kv embedded snapshot (those start with '" + MAGIC_PREFIX + "...')");
  }

  /** A line of the header or the trailer, without its newline. */
  private static String readLine(InputStream in, String part) throws IOException {
    ByteArrayOutputStream read = new ByteArrayOutputStream();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b < 0) {
        throw refused("the snapshot is cut short: it ends inside its " + part);
      }
      if (read.size() == MAX_LINE) {
        throw refused("the snapshot is damaged: its " + part + " has an unreadable line");
      }
      read.write(b);
    }
    return read.toString(StandardCharsets.UTF_8);
  }

  private static long number(String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw refused("the snapshot is damaged: its header has '" + text + "' where a number goes");
    }
  }

  private static KvException refused(String reason) {
    return new KvException(KvException.Code.INVALID_ARGUMENT, reason);
  }

  private static String sha256Of(Path file) throws IOException {
    MessageDigest digest = sha256();
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return hex(digest);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  private static String hex(MessageDigest digest) {
    return HexFormat.of().formatHex(digest.digest());
  }

  private static byte[] line(String text) {
    return (text + "\n").getBytes(StandardCharsets.UTF_8);
  }

  /** Counts the bytes written; buffers them, the header being written line by line. */
  private static final class CountingOutput extends FilterOutputStream {
    long count;

    CountingOutput(OutputStream out) {
      super(new BufferedOutputStream(out, BUFFER));
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      out.write(bytes, offset, length);
      count += length;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }
  }

  /** Counts the bytes read; buffers them, the header being read byte by byte. */
  private static final class CountingInput extends FilterInputStream {
    long count;

    CountingInput(InputStream in) {
      super(new BufferedInputStream(in, BUFFER));
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] bytes, int offset, int length) throws IOException {
      int n = in.read(bytes, offset, length);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}
