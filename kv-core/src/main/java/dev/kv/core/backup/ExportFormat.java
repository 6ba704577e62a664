package dev.kv.core.backup;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.kv.core.KeyValue;
import dev.kv.core.Ttl;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;

/**
 * The layout of an export: UTF-8 JSON lines, each ending with a newline.
 *
 * <ol>
 *   <li>a header, {@code {"format":"kv-export","version":1,"store":..,"source":..,"prefix":..,
 *       "revision":R,"created":"2026-01-31T12:00:00Z"}} ({@link ExportHeader});
 *   <li>one line per key, in key order: {@code {"key":..,"value":..,"create_revision":..,
 *       "mod_revision":..,"version":..,"ttl_seconds":N}}, without {@code ttl_seconds} for a key
 *       that has no time to live, and with {@code value_base64} instead of {@code value} for a
 *       value that is not UTF-8 text;
 *   <li>a trailer, {@code {"count":N,"sha256":HEX}}: the number of keys, and the SHA-256 of every
 *       byte of the file before the trailer.
 * </ol>
 */
public final class ExportFormat {

  /** The {@code format} of the header. */
  public static final String FORMAT = "kv-export";

  /** The version this code writes and reads. */
  public static final int VERSION = 1;

  private ExportFormat() {}

  static String header(ExportHeader header) {
    JsonObject line = new JsonObject();
    line.addProperty("format", FORMAT);
    line.addProperty("version", VERSION);
    line.addProperty("store", header.store());
    line.addProperty("source", header.source());
    line.addProperty("prefix", header.prefix());
    line.addProperty("revision", header.revision());
    line.addProperty("created", header.created().toString());
    return line.toString();
  }

  static String entry(KeyValue entry, long ttlSeconds) {
    JsonObject line = new JsonObject();
    line.addProperty("key", entry.key());
    if (entry.isText()) {
      line.addProperty("value", entry.value());
    } else {
      line.addProperty("value_base64", Base64.getEncoder().encodeToString(entry.binaryValue()));
    }
    line.addProperty("create_revision", entry.createRevision());
    line.addProperty("mod_revision", entry.modRevision());
    line.addProperty("version", entry.version());
    if (ttlSeconds > 0) {
      line.addProperty("ttl_seconds", ttlSeconds);
    }
    return line.toString();
  }

  static String trailer(long count, String sha256) {
    JsonObject line = new JsonObject();
    line.addProperty("count", count);
    line.addProperty("sha256", sha256);
    return line.toString();
  }

  /**
   * One line as a JSON object: strict JSON in strict UTF-8, nothing after the object.
   *
   * @throws IllegalArgumentException saying what is wrong with it
   */
  static JsonObject parse(byte[] line) {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(line))
              .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("it is not UTF-8 text");
    }
    try {
      JsonReader reader = new JsonReader(new StringReader(text));
      reader.setStrictness(Strictness.STRICT);
      JsonElement element = JsonParser.parseReader(reader);
      if (!element.isJsonObject() || reader.peek() != JsonToken.END_DOCUMENT) {
        throw new IllegalArgumentException("it is not one JSON object");
      }
      return element.getAsJsonObject();
    } catch (JsonParseException | IOException e) {
      throw new IllegalArgumentException("it is not one JSON object");
    }
  }

  /** Whether {@code line} is a header, of any version. */
  static boolean isHeader(JsonObject line) {
    JsonElement format = line.get("format");
    return format != null && format.isJsonPrimitive() && FORMAT.equals(format.getAsString());
  }

  static ExportHeader parseHeader(JsonObject line) {
    long version = number(line, "version");
    if (version != VERSION) {
      throw new IllegalArgumentException(
          "it is a kv-export of version " + version + "; this kv reads version " + VERSION);
    }
    try {
      return new ExportHeader(
          text(line, "store"),
          text(line, "source"),
          text(line, "prefix"),
          number(line, "revision"),
          Instant.parse(text(line, "created")));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("its \"created\" is not an ISO-8601 time");
    }
  }

  static boolean isTrailer(JsonObject line) {
    return !line.has("key") && line.has("count");
  }

  static long trailerCount(JsonObject line) {
    return number(line, "count");
  }

  static String trailerSha256(JsonObject line) {
    return text(line, "sha256");
  }

  static ExportedEntry parseEntry(JsonObject line) {
    String key = text(line, "key");
    long ttlSeconds = line.has("ttl_seconds") ? number(line, "ttl_seconds") : 0;
    if (ttlSeconds > Ttl.MAX.toSeconds()) {
      throw new IllegalArgumentException("the time to live of key '" + key + "' is too long");
    }
    long createRevision = number(line, "create_revision");
    long modRevision = number(line, "mod_revision");
    long version = number(line, "version");
    try {
      KeyValue entry =
          line.has("value_base64")
              ? KeyValue.binary(
                  key,
                  Base64.getDecoder().decode(text(line, "value_base64")),
                  createRevision,
                  modRevision,
                  version)
              : new KeyValue(key, text(line, "value"), createRevision, modRevision, version);
      return new ExportedEntry(entry, ttlSeconds);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("key '" + key + "': " + e.getMessage());
    }
  }

  private static String text(JsonObject line, String name) {
    JsonElement field = line.get(name);
    if (field == null || !field.isJsonPrimitive() || !field.getAsJsonPrimitive().isString()) {
      throw new IllegalArgumentException("it has no text \"" + name + "\"");
    }
    return field.getAsString();
  }

  private static long number(JsonObject line, String name) {
    JsonElement field = line.get(name);
    if (field == null || !field.isJsonPrimitive() || !field.getAsJsonPrimitive().isNumber()) {
      throw new IllegalArgumentException("it has no number \"" + name + "\"");
    }
    try {
      long number = field.getAsJsonPrimitive().getAsBigDecimal().longValueExact();
      if (number < 0) {
        throw new IllegalArgumentException("its \"" + name + "\" is negative");
      }
      return number;
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("its \"" + name + "\" is not a whole number");
    }
  }
}
