package dev.kv.core.backup;

import dev.kv.core.KeyValue;
import dev.kv.core.KvStore;
import dev.kv.core.ListQuery;
import dev.kv.core.Listing;
import dev.kv.core.Page;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Writes the keys of a store, or those under a prefix, to a stream in {@link ExportFormat}: every
 * page read at the revision of the first, so that the file is one consistent view of the store even
 * while it takes writes, with each key's remaining time to live.
 *
 * <p>It streams: it holds one page of keys at a time, at most {@link #pageBytes} bytes of keys and
 * values (or one entry, however large), whatever the number of keys. It waits for the store, so
 * call it on a thread that may wait.
 *
 * <pre>{@code
 * try (OutputStream out = Files.newOutputStream(file)) {
 *   Exporter.of(store).prefix("users/").writeTo(out);
 * }
 * }</pre>
 */
public final class Exporter {

  /** The byte budget of a page unless another is asked for: 1 MiB. */
  public static final int DEFAULT_PAGE_BYTES = 1 << 20;

  /** What an export did. */
  public record Result(long count, long revision, long bytes) {}

  /** Told after each page how far an export is. */
  @FunctionalInterface
  public interface Progress {
    void exported(long keys, long bytes);
  }

  private final KvStore store;
  private String prefix = "";
  private int pageKeys = ListQuery.MAX_LIMIT;
  private int pageBytes = DEFAULT_PAGE_BYTES;
  private String source;
  private Progress progress = (keys, bytes) -> {};

  private Exporter(KvStore store) {
    this.store = Objects.requireNonNull(store, "store");
    this.source = store.toString();
  }

  /** An export of every key of {@code store}. */
  public static Exporter of(KvStore store) {
    return new Exporter(store);
  }

  /** Exports only the keys that start with {@code prefix}. */
  public Exporter prefix(String prefix) {
    this.prefix = Objects.requireNonNull(prefix, "prefix");
    return this;
  }

  /** Reads pages of at most {@code keys} keys and {@code bytes} bytes of keys and values. */
  public Exporter pageSize(int keys, int bytes) {
    // Checked now rather than at the first page.
    ListQuery.prefix("").limit(keys).maxBytes(bytes);
    this.pageKeys = keys;
    this.pageBytes = bytes;
    return this;
  }

  /** Where the header says the keys come from (the store's name unless given): no credentials. */
  public Exporter source(String source) {
    this.source = Objects.requireNonNull(source, "source");
    return this;
  }

  public Exporter progress(Progress progress) {
    this.progress = Objects.requireNonNull(progress, "progress");
    return this;
  }

  /**
   * Writes the export to {@code out}, flushed, not closed.
   *
   * @throws dev.kv.core.KvException when the store fails; what was written then is not a whole
   *     export (it has no trailer)
   * @throws IOException when writing to {@code out} fails
   */
  public Result writeTo(OutputStream out) throws IOException {
    Listing pages =
        Listing.of(
            store, source, ListQuery.prefix(prefix).limit(pageKeys).maxBytes(pageBytes).withTtl());
    Page page = pages.next();
    long revision = page.revision();
    String kind = kind();
    MessageDigest sha256 = sha256();
    DigestOutputStream digested = new DigestOutputStream(new BufferedOutputStream(out), sha256);
    Lines lines = new Lines(digested);
    lines.write(
        ExportFormat.header(
            new ExportHeader(
                kind, source, prefix, revision, Instant.now().truncatedTo(ChronoUnit.MILLIS))));
    long count = 0;
    while (true) {
      for (KeyValue entry : page.entries()) {
        lines.write(ExportFormat.entry(entry, page.ttlSeconds(entry.key())));
      }
      count += page.entries().size();
      // Written out before the next page is read: only one page is ever held.
      digested.flush();
      progress.exported(count, lines.bytes);
      if (!pages.hasNext()) {
        break;
      }
      page = pages.next();
    }
    digested.on(false);
    lines.write(ExportFormat.trailer(count, HexFormat.of().formatHex(sha256.digest())));
    digested.flush();
    return new Result(count, revision, lines.bytes);
  }

  /** The kind of store, as it says, or through kv-server as the server's store says. */
  private String kind() {
    try {
      return store.blocking().status().kind();
    } catch (RuntimeException e) {
      // A kv-server too old to say: the export is no less whole.
      return "unknown";
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** Lines in UTF-8, each ending with a newline, counted. */
  private static final class Lines {
    private final OutputStream out;
    private long bytes;

    Lines(OutputStream out) {
      this.out = out;
    }

    void write(String line) throws IOException {
      byte[] utf8 = line.getBytes(StandardCharsets.UTF_8);
      out.write(utf8);
      out.write('\n');
      bytes += utf8.length + 1;
    }
  }
}
