package dev.kv.server;

import dev.kv.api.DeleteRequest;
import dev.kv.api.GetRequest;
import dev.kv.api.ListRequest;
import dev.kv.api.SetRequest;
import dev.kv.api.WatchRequest;
import dev.kv.core.Ttl;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

/**
 * Request messages of the {@code kv.KV} methods, valid or mutated into something a parser must
 * survive, and the bits of the protobuf wire format that tests write by hand.
 */
final class FuzzedMessages {

  private FuzzedMessages() {}

  /** A request's message, valid or mutated, and how it was made. */
  record Payload(String kind, byte[] bytes) {}

  /**
   * A message for {@code method}, the {@code kv.KV} method's simple name: a valid one with values
   * at the edges of their ranges, a quarter of the time, else one mutated beyond what parses.
   */
  static Payload fuzzed(String method, Random random) {
    byte[] valid = validRequest(method, random);
    int field = 1 + random.nextInt(7);
    return switch (random.nextInt(12)) {
      case 0 ->
          new Payload(
              "random bytes", randomBytes(random, random.nextInt(random.nextBoolean() ? 16 : 512)));
      case 1 -> new Payload("bit flips", flipBits(valid, random));
      case 2 -> new Payload("truncated", Arrays.copyOf(valid, random.nextInt(valid.length + 1)));
      case 3 ->
          new Payload(
              "duplicated fields",
              concat(valid, valid, Arrays.copyOf(valid, random.nextInt(valid.length + 1))));
      case 4 ->
          new Payload(
              "unknown field",
              concat(
                  valid,
                  tag(1 + random.nextInt((1 << 29) - 1), random.nextInt(8)),
                  randomBytes(random, random.nextInt(12))));
      case 5 -> {
        long[] huge = {Integer.MAX_VALUE, 1L << 32, Long.MAX_VALUE, -1L, 5 << 20};
        yield new Payload(
            "huge length",
            concat(
                valid,
                tag(field, 2),
                varint(huge[random.nextInt(huge.length)]),
                randomBytes(random, 8)));
      }
      case 6 -> new Payload("nested garbage", concat(valid, nestedGarbage(field, random)));
      case 7 -> {
        byte[] overlong = new byte[11];
        Arrays.fill(overlong, (byte) 0xff);
        yield new Payload("overlong varint", concat(tag(field, 0), overlong, valid));
      }
      // Wire types 0 to 5: known fields arriving in a form they do not have.
      case 8 ->
          new Payload(
              "wrong wire type",
              concat(
                  tag(field, random.nextInt(6)), randomBytes(random, random.nextInt(10)), valid));
      default -> new Payload("valid, extreme values", valid);
    };
  }

  /** A valid message for {@code method}, with values drawn from the edges of their ranges. */
  private static byte[] validRequest(String method, Random random) {
    return switch (method) {
      case "Get" ->
          GetRequest.newBuilder()
              .setKey(text(random))
              .setConsistencyValue(random.nextInt(4) - 1)
              .build()
              .toByteArray();
      case "Set" ->
          SetRequest.newBuilder()
              .setKey(text(random))
              .setValue(text(random))
              .setIfAbsent(random.nextInt(4) == 0)
              .setIfModRevision(number(random))
              .setTtlSeconds(number(random))
              .build()
              .toByteArray();
      case "Delete" ->
          DeleteRequest.newBuilder()
              .setKey(text(random))
              .setPrefix(random.nextInt(4) == 0)
              .setIfModRevision(number(random))
              .build()
              .toByteArray();
      case "List" ->
          ListRequest.newBuilder()
              .setPrefix(random.nextBoolean() ? text(random) : "")
              .setRangeStart(random.nextBoolean() ? text(random) : "")
              .setRangeEnd(random.nextBoolean() ? text(random) : "")
              .setLimit((int) number(random))
              .setStartAfter(random.nextBoolean() ? text(random) : "")
              .setKeysOnly(random.nextBoolean())
              .setConsistencyValue(random.nextInt(4) - 1)
              .build()
              .toByteArray();
      case "Watch" ->
          WatchRequest.newBuilder()
              .setKey(text(random))
              .setPrefix(random.nextBoolean())
              .setStartRevision(number(random))
              .build()
              .toByteArray();
      default -> throw new IllegalArgumentException(method);
    };
  }

  /** Short, well-formed text: empty, a few fixed keys, Latin-1, or any code points. */
  private static String text(Random random) {
    return switch (random.nextInt(6)) {
      case 0 -> "";
      case 1 -> "fuzz/" + random.nextInt(50);
      case 2 -> "\u0000ÿ€\uD834\uDD1E";
      case 3 -> new String(randomBytes(random, random.nextInt(20)), StandardCharsets.ISO_8859_1);
      default -> {
        StringBuilder text = new StringBuilder();
        for (int i = random.nextInt(20); i > 0; i--) {
          int codePoint = random.nextInt(Character.MAX_CODE_POINT + 1);
          if (codePoint < Character.MIN_SURROGATE || codePoint > Character.MAX_SURROGATE) {
            text.appendCodePoint(codePoint);
          }
        }
        yield text.toString();
      }
    };
  }

  /** Mostly 0, so that requests take their common paths, else a value at an edge. */
  private static long number(Random random) {
    long[] edges = {
      1,
      -1,
      Integer.MAX_VALUE,
      Integer.MIN_VALUE,
      Long.MAX_VALUE,
      Long.MIN_VALUE,
      10_000,
      10_001,
      Ttl.MAX.toSeconds(),
      Ttl.MAX.toSeconds() + 1,
      random.nextLong()
    };
    return random.nextBoolean() ? 0 : edges[random.nextInt(edges.length)];
  }

  private static byte[] flipBits(byte[] valid, Random random) {
    byte[] flipped = valid.length == 0 ? new byte[1] : valid.clone();
    for (int i = 1 + random.nextInt(4); i > 0; i--) {
      flipped[random.nextInt(flipped.length)] ^= (byte) (1 << random.nextInt(8));
    }
    return flipped;
  }

  /** An unknown field holding garbage, or groups nested past the parser's recursion limit. */
  private static byte[] nestedGarbage(int field, Random random) {
    if (random.nextBoolean()) {
      byte[] inner = randomBytes(random, random.nextInt(64));
      return concat(tag(field, 2), varint(inner.length), inner);
    }
    int depth = 1 + random.nextInt(300);
    ByteArrayOutputStream groups = new ByteArrayOutputStream();
    for (int i = 0; i < depth; i++) {
      groups.writeBytes(tag(field, 3));
    }
    for (int i = random.nextInt(depth + 1); i > 0; i--) {
      groups.writeBytes(tag(field, 4));
    }
    return groups.toByteArray();
  }

  static byte[] tag(int field, int wireType) {
    return varint((long) field << 3 | wireType);
  }

  static byte[] varint(long value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while ((value & ~0x7fL) != 0) {
      out.write((int) (value & 0x7f) | 0x80);
      value >>>= 7;
    }
    out.write((int) value);
    return out.toByteArray();
  }

  static byte[] lengthDelimited(int field, byte[] bytes) {
    return concat(tag(field, 2), varint(bytes.length), bytes);
  }

  static byte[] randomBytes(Random random, int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }

  static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
