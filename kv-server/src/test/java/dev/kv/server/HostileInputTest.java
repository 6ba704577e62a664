package dev.kv.server;

import static dev.kv.server.FuzzedMessages.ascii;
import static dev.kv.server.FuzzedMessages.concat;
import static dev.kv.server.FuzzedMessages.lengthDelimited;
import static dev.kv.server.FuzzedMessages.randomBytes;
import static dev.kv.server.FuzzedMessages.tag;
import static dev.kv.server.FuzzedMessages.varint;
import static dev.kv.server.RawHttp2Client.grpcFrame;
import static dev.kv.server.RawHttp2Client.grpcHeaders;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.api.GetRequest;
import dev.kv.api.SetRequest;
import dev.kv.api.WatchRequest;
import dev.kv.core.KeyValue;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.ReadConsistency;
import dev.kv.core.Ttl;
import dev.kv.core.config.HostPort;
import dev.kv.core.memory.MemoryStore;
import dev.kv.core.remote.RemoteStore;
import dev.kv.server.FuzzedMessages.Payload;
import dev.kv.server.RawHttp2Client.Exchange;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile input over real sockets: random and mutated messages, broken gRPC framing, wrong headers
 * and bytes that are not HTTP/2 at all. Every request gets a proper answer, the heap stays flat,
 * and after each test the server still serves a well-behaved client.
 *
 * <p>Every random choice follows {@link #SEED}; a failure names it, and {@code -Dkv.fuzz.seed=...}
 * replays it.
 */
@Timeout(60)
class HostileInputTest {

  private static final long SEED = Long.getLong("kv.fuzz.seed", 20_240_611L);
  private static final int FUZZED_PER_METHOD = Integer.getInteger("kv.fuzz.requests", 3000);

  /** The largest request message the server accepts by default. */
  private static final int MAX_INBOUND_MESSAGE_SIZE = Limits.DEFAULTS.maxMessageBytes();

  private static final long HEAP_GROWTH_LIMIT = 32L * 1024 * 1024;
  private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(30);

  /** Requests in flight at once on the fuzzing connection. */
  private static final int BATCH = 100;

  private static final List<String> METHODS = List.of("Get", "Set", "Delete", "List", "Watch");

  /** What a well-framed request may be answered with, whatever its bytes. */
  private static final Set<Status.Code> ALLOWED =
      EnumSet.of(
          Status.Code.OK,
          Status.Code.INVALID_ARGUMENT,
          Status.Code.NOT_FOUND,
          Status.Code.FAILED_PRECONDITION,
          Status.Code.OUT_OF_RANGE,
          Status.Code.RESOURCE_EXHAUSTED);

  /** How the summary names a watch that opened and that the test then reset. */
  private static final String RESET_BY_TEST = "CANCELLED (open watch reset by the test)";

  private static MemoryStore store;
  private static KvServer server;
  private static RawHttp2Client client;

  @BeforeAll
  static void start() throws IOException {
    // A short history, so that the changes the fuzzing makes do not weigh on the heap figures.
    store = new MemoryStore(100);
    server = KvServer.listeningOn(new HostPort("127.0.0.1", 0), store).start();
    client = new RawHttp2Client(new InetSocketAddress("127.0.0.1", server.port()));
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    server.stop(Duration.ZERO);
    store.close();
  }

  @AfterEach
  void stillServesWellBehavedClients() throws Exception {
    String key = "still-serving/" + UUID.randomUUID();
    try (RemoteStore remote = RemoteStore.connect(server.address(), Duration.ofSeconds(5))) {
      remote.set(key, "yes", Ttl.NONE).get(30, TimeUnit.SECONDS);
      assertThat(remote.get(key, ReadConsistency.LINEARIZABLE).get(30, TimeUnit.SECONDS))
          .map(KeyValue::value)
          .contains("yes");
      remote.delete(key).get(30, TimeUnit.SECONDS);
    }
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    try {
      for (String service : List.of("", KvServer.SERVICE_NAME)) {
        ServingStatus status =
            HealthGrpc.newBlockingStub(channel)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(service).build())
                .getStatus();
        assertThat(status).as("health of '%s'", service).isEqualTo(ServingStatus.SERVING);
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void fuzzedMessages_getAnAllowedStatus_andTheHeapStaysFlat() throws Exception {
    Random random = new Random(SEED);
    // Warms up both ends (classes, buffer pools) so that the heap figures measure what remains.
    for (String method : METHODS) {
      fuzz(method, 200, random, new TreeMap<>(), new ArrayList<>());
    }
    clearStore();
    long before = usedHeapAfterGc();

    Map<String, Map<String, Integer>> outcomes = new LinkedHashMap<>();
    List<String> failures = new ArrayList<>();
    long started = System.nanoTime();
    for (String method : METHODS) {
      Map<String, Integer> seen = new TreeMap<>();
      outcomes.put(method, seen);
      fuzz(method, FUZZED_PER_METHOD, random, seen, failures);
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

    clearStore();
    long after = usedHeapAfterGc();
    outcomes.forEach(
        (method, seen) ->
            System.out.printf(
                "HostileInputTest fuzz kv.KV/%s: %d requests, outcomes %s%n",
                method, FUZZED_PER_METHOD, seen));
    System.out.printf(
        "HostileInputTest fuzz: %d requests in %d ms over %d connection(s) so far; used heap after"
            + " GC %.1f MiB before, %.1f MiB after (growth %.1f MiB, limit %d MiB); seed %d%n",
        FUZZED_PER_METHOD * METHODS.size(),
        millis,
        client.connectionsOpened(),
        before / 1048576.0,
        after / 1048576.0,
        (after - before) / 1048576.0,
        HEAP_GROWTH_LIMIT >> 20,
        SEED);
    assertThat(failures).as("requests without a proper answer (seed %d)", SEED).isEmpty();
    assertThat(after - before)
        .as("heap growth in bytes (seed %d)", SEED)
        .isLessThan(HEAP_GROWTH_LIMIT);
  }

  @Test
  void watchesResetOnceOpen_areReleased() throws Exception {
    // Keys of the largest size, so that watches the server kept after their reset would show on
    // the heap.
    String key = "w".repeat(Limits.DEFAULTS.maxKeyBytes() - 8);
    int watches = 3000;
    long before = usedHeapAfterGc();
    Map<String, Integer> seen = new TreeMap<>();
    for (int first = 0; first < watches; first += BATCH) {
      List<Exchange> open = new ArrayList<>();
      for (int i = first; i < first + BATCH; i++) {
        WatchRequest request =
            WatchRequest.newBuilder().setKey(key + i).setPrefix(i % 2 == 0).build();
        open.add(unary("Watch", request.toByteArray()));
      }
      for (Exchange exchange : open) {
        exchange.awaitEndOrData(ANSWER_TIMEOUT);
        assertThat(exchange.ended()).as("watch ended before it opened: %s", exchange).isFalse();
        assertWellFramed(exchange.data());
        exchange.cancel();
      }
      for (Exchange exchange : open) {
        tally(seen, exchange.await(ANSWER_TIMEOUT).outcome());
      }
    }
    long after = usedHeapAfterGc();
    System.out.printf(
        "HostileInputTest watches reset once open: used heap after GC %.1f MiB before, %.1f MiB"
            + " after %d watches on 4 KiB keys (growth %.1f MiB)%n",
        before / 1048576.0, after / 1048576.0, watches, (after - before) / 1048576.0);
    summary("watches reset once open", watches, seen);
    assertThat(after - before).isLessThan(HEAP_GROWTH_LIMIT);
  }

  @Test
  void invalidUtf8InStringFields_isInvalidArgument() throws Exception {
    byte[][] invalid = {
      {(byte) 0xc3, 0x28}, // a two-byte sequence whose second byte is no continuation
      {(byte) 0xff},
      {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, // a lone high surrogate, U+D800
      {(byte) 0xed, (byte) 0xbf, (byte) 0xbf}, // a lone low surrogate, U+DFFF
      {(byte) 0xc0, (byte) 0xaf}, // an overlong '/'
      {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
      {'k', (byte) 0xe2, (byte) 0x82}, // cut short
      {'k', (byte) 0x80} // a continuation byte alone
    };
    // The string fields of each request, by field number; the other fields stay valid.
    Map<String, int[]> stringFields =
        Map.of(
            "Get", new int[] {1},
            "Set", new int[] {1, 2},
            "Delete", new int[] {1},
            "List", new int[] {1, 2, 3, 5},
            "Watch", new int[] {1});
    Map<String, Integer> seen = new TreeMap<>();
    int sent = 0;
    for (String method : METHODS) {
      for (int field : stringFields.get(method)) {
        for (byte[] bytes : invalid) {
          byte[] message =
              field == 1
                  ? lengthDelimited(1, bytes)
                  : concat(lengthDelimited(1, ascii("k")), lengthDelimited(field, bytes));
          Exchange answer = unary(method, message).await(ANSWER_TIMEOUT);
          sent++;
          tally(seen, answer.outcome());
          String input = "kv.KV/" + method + " field " + field + " = " + hex(bytes);
          assertThat(answer.grpcStatus())
              .as(input + ": " + answer)
              .isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(answer.grpcMessage())
              .as(input)
              .isEqualTo("malformed request: not a valid kv.KV/" + method + " request message");
        }
      }
    }
    summary("invalid UTF-8", sent, seen);
  }

  private static final String TWO_MESSAGES = "two messages";

  @Test
  void brokenFraming_isAnErrorStatus_neverAHang() throws Exception {
    byte[] get = GetRequest.newBuilder().setKey("k").build().toByteArray();
    Map<String, List<byte[]>> bodies = new LinkedHashMap<>();
    bodies.put("no message at all", List.of());
    bodies.put("an empty DATA frame", List.of(new byte[0]));
    for (int length = 1; length <= 4; length++) {
      bodies.put("a prefix of " + length + " byte(s)", List.of(new byte[length]));
    }
    bodies.put("a length one more than the body", List.of(grpcFrame(0, get.length + 1, get)));
    bodies.put(
        "a length 1000 more, in two frames",
        List.of(grpcFrame(0, get.length + 1000, new byte[0]), get));
    bodies.put("a message, then half a prefix", List.of(concat(grpcFrame(get), new byte[] {0, 0})));
    bodies.put(TWO_MESSAGES, List.of(grpcFrame(get), grpcFrame(get)));
    bodies.put("a negative length", List.of(grpcFrame(0, -1, get)));

    Map<String, Integer> seen = new TreeMap<>();
    Map<String, String> observed = new LinkedHashMap<>();
    int sent = 0;
    for (String method : METHODS) {
      for (Map.Entry<String, List<byte[]>> body : bodies.entrySet()) {
        Exchange answer =
            client
                .send(grpcHeaders("/kv.KV/" + method), body.getValue(), true)
                .await(ANSWER_TIMEOUT);
        sent++;
        tally(seen, answer.outcome());
        observed.merge(body.getKey(), method + ": " + answer, (a, b) -> a + "; " + b);
        String input = "kv.KV/" + method + " with " + body.getKey() + ": " + answer;
        if (body.getKey().equals(TWO_MESSAGES)) {
          // grpc-java resets a call that takes one message when a second one comes, without a
          // status; a bare grpc-java server does the same.
          assertThat(answer.outcome()).as(input).isIn("INTERNAL", "RST_STREAM CANCEL");
        } else {
          assertThat(answer.grpcStatus())
              .as(input)
              .isNotNull()
              .isNotIn(Status.Code.OK, Status.Code.UNKNOWN);
        }
      }
    }
    observed.forEach((body, answers) -> System.out.println("  " + body + " -> " + answers));
    summary("broken framing", sent, seen);
  }

  @Test
  void oversizedMessages_areResourceExhausted_withoutAllocatingTheirDeclaredSize()
      throws Exception {
    Map<String, Integer> seen = new TreeMap<>();
    byte[] body = GetRequest.newBuilder().setKey("k").build().toByteArray();
    long before = usedHeapAfterGc();
    // Streams left open, declaring 64 MiB each: a server that reserved the declared size would
    // hold a gigabyte here.
    List<Exchange> open = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      open.add(
          client.send(grpcHeaders("/kv.KV/Set"), List.of(grpcFrame(0, 64 << 20, body)), false));
    }
    for (Exchange exchange : open) {
      exchange.await(ANSWER_TIMEOUT);
    }
    long during = usedHeapAfterGc();
    for (Exchange exchange : open) {
      tally(seen, exchange.outcome());
      assertThat(exchange.grpcStatus())
          .as(exchange.toString())
          .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    }

    Exchange justOver =
        client
            .send(
                grpcHeaders("/kv.KV/Get"),
                List.of(grpcFrame(0, MAX_INBOUND_MESSAGE_SIZE + 1, body)),
                true)
            .await(ANSWER_TIMEOUT);
    tally(seen, justOver.outcome());
    assertThat(justOver.grpcStatus())
        .as(justOver.toString())
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);

    // Real bytes over the limit, in 64 KiB DATA frames, with an honest length.
    byte[] tooBig = setRequest("big", MAX_INBOUND_MESSAGE_SIZE + 1);
    Exchange streamed =
        client
            .send(grpcHeaders("/kv.KV/Set"), chunks(grpcFrame(tooBig), 64 * 1024), true)
            .await(ANSWER_TIMEOUT);
    tally(seen, streamed.outcome());
    assertThat(streamed.grpcStatus())
        .as(streamed.toString())
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);

    // At the limit, a message is read, and its value judged by the value limit.
    byte[] atLimit = setRequest("big", MAX_INBOUND_MESSAGE_SIZE);
    Exchange judged =
        client
            .send(grpcHeaders("/kv.KV/Set"), chunks(grpcFrame(atLimit), 64 * 1024), true)
            .await(ANSWER_TIMEOUT);
    tally(seen, judged.outcome());
    assertThat(judged.grpcStatus()).as(judged.toString()).isEqualTo(Status.Code.INVALID_ARGUMENT);

    // The largest value is served.
    byte[] largest =
        SetRequest.newBuilder()
            .setKey("big")
            .setValue("x".repeat(Limits.DEFAULTS.maxValueBytes()))
            .build()
            .toByteArray();
    Exchange accepted =
        client
            .send(grpcHeaders("/kv.KV/Set"), chunks(grpcFrame(largest), 64 * 1024), true)
            .await(ANSWER_TIMEOUT);
    tally(seen, accepted.outcome());
    assertThat(accepted.grpcStatus()).as(accepted.toString()).isEqualTo(Status.Code.OK);
    store.delete("big").get(30, TimeUnit.SECONDS);

    System.out.printf(
        "HostileInputTest oversized: used heap after GC %.1f MiB before, %.1f MiB with 16 streams"
            + " declaring 64 MiB (growth %.1f MiB)%n",
        before / 1048576.0, during / 1048576.0, (during - before) / 1048576.0);
    System.out.println("  just over the limit -> " + justOver);
    System.out.println("  streamed over the limit -> " + streamed);
    summary("oversized", open.size() + 3, seen);
    assertThat(during - before).isLessThan(HEAP_GROWTH_LIMIT);
  }

  @Test
  void wrongHeaders_getAnErrorAnswer_neverAHang() throws Exception {
    Map<String, UnaryOperator<Http2Headers>> rejected = new LinkedHashMap<>();
    rejected.put("no content-type", without("content-type"));
    rejected.put("content-type application/json", h -> h.set("content-type", "application/json"));
    rejected.put("content-type text/plain", h -> h.set("content-type", "text/plain"));
    rejected.put("content-type application/grpcx", h -> h.set("content-type", "application/grpcx"));
    rejected.put(":method GET", h -> h.method("GET"));
    rejected.put(":method PUT", h -> h.method("PUT"));
    rejected.put(":path /kv.KV/Nope", h -> h.path("/kv.KV/Nope"));
    rejected.put(":path /nope", h -> h.path("/nope"));
    rejected.put(":path kv.KV/Get, no slash", h -> h.path("kv.KV/Get"));
    rejected.put(":path /", h -> h.path("/"));
    rejected.put("no :path", without(":path"));
    rejected.put("no :method", without(":method"));
    rejected.put("upper-case name Content-Type", h -> h.set("Content-Type", "application/grpc"));
    rejected.put("connection: close", h -> h.set("connection", "close"));
    rejected.put("grpc-encoding br", h -> h.set("grpc-encoding", "br"));
    rejected.put("grpc-timeout 0n", h -> h.set("grpc-timeout", "0n"));
    rejected.put("grpc-timeout garbage", h -> h.set("grpc-timeout", "soon"));
    rejected.put("grpc-timeout of 9 digits", h -> h.set("grpc-timeout", "999999999H"));
    rejected.put("a 64 KiB header", h -> h.set("x-big", "x".repeat(64 * 1024)));
    rejected.put("te: gzip", h -> h.set("te", "gzip"));
    // grpc-java takes any application/grpc+format as gRPC, and ignores a missing te.
    Map<String, UnaryOperator<Http2Headers>> accepted = new LinkedHashMap<>();
    accepted.put(
        "content-type application/grpc+proto",
        h -> h.set("content-type", "application/grpc+proto"));
    accepted.put(
        "content-type application/grpc+json", h -> h.set("content-type", "application/grpc+json"));
    accepted.put("no te", without("te"));
    accepted.put("no :authority", without(":authority"));

    byte[] get = grpcFrame(GetRequest.newBuilder().setKey("hostile/absent").build().toByteArray());
    Map<String, Integer> seen = new TreeMap<>();
    for (boolean shouldServe : List.of(false, true)) {
      for (var variant : (shouldServe ? accepted : rejected).entrySet()) {
        // Some of these make the server close the connection, which would fail the next ones.
        client.newConnection();
        Exchange answer =
            client
                .send(variant.getValue().apply(grpcHeaders("/kv.KV/Get")), List.of(get), true)
                .await(ANSWER_TIMEOUT);
        tally(seen, answer.outcome());
        System.out.println("  " + variant.getKey() + " -> " + answer);
        if (shouldServe) {
          assertThat(answer.grpcStatus())
              .as(variant.getKey() + ": " + answer)
              .isEqualTo(Status.Code.NOT_FOUND);
        } else {
          assertThat(answer.outcome())
              .as(variant.getKey() + ": " + answer)
              .isNotIn("OK", "NOT_FOUND", "UNKNOWN", "no status");
        }
      }
    }
    summary("wrong headers", rejected.size() + accepted.size(), seen);
  }

  @Test
  void compressedMessages_getAProperStatus() throws Exception {
    byte[] get = GetRequest.newBuilder().setKey("hostile/absent").build().toByteArray();
    record Variant(String name, String encoding, byte[] frame, Status.Code expected) {}
    List<Variant> variants =
        List.of(
            new Variant(
                "compressed flag, no grpc-encoding", null, grpcFrame(1, get.length, get), null),
            new Variant(
                "compressed flag, identity", "identity", grpcFrame(1, get.length, get), null),
            new Variant("gzip, garbage body", "gzip", grpcFrame(1, 9, ascii("not gzip!")), null),
            new Variant("gzip, cut short", "gzip", gzipFrame(Arrays.copyOf(gzip(get), 12)), null),
            new Variant("reserved flag bits", null, grpcFrame(0x80, get.length, get), null),
            new Variant("flag 2", null, grpcFrame(2, get.length, get), null),
            new Variant(
                "gzip of 64 MiB, a bomb",
                "gzip",
                gzipFrame(gzippedKeyOf64MiB()),
                Status.Code.RESOURCE_EXHAUSTED),
            new Variant(
                "gzip of a valid request", "gzip", gzipFrame(gzip(get)), Status.Code.NOT_FOUND),
            new Variant(
                "gzip header, uncompressed message",
                "gzip",
                grpcFrame(get),
                Status.Code.NOT_FOUND));
    Map<String, Integer> seen = new TreeMap<>();
    for (Variant variant : variants) {
      Http2Headers headers = grpcHeaders("/kv.KV/Get");
      if (variant.encoding() != null) {
        headers.set("grpc-encoding", variant.encoding());
      }
      Exchange answer = client.send(headers, List.of(variant.frame()), true).await(ANSWER_TIMEOUT);
      tally(seen, answer.outcome());
      System.out.println("  " + variant.name() + " -> " + answer);
      if (variant.expected() != null) {
        assertThat(answer.grpcStatus())
            .as(variant.name() + ": " + answer)
            .isEqualTo(variant.expected());
      } else {
        assertThat(answer.grpcStatus())
            .as(variant.name() + ": " + answer)
            .isNotNull()
            .isNotIn(Status.Code.OK, Status.Code.NOT_FOUND, Status.Code.UNKNOWN);
      }
    }
    summary("compression", variants.size(), seen);
  }

  @Test
  void bytesThatAreNotHttp2_closeTheConnection() throws Exception {
    Random random = new Random(SEED);
    byte[] preface = ascii("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    byte[] emptySettings = frame(0x4, 0, 0, new byte[0]);
    Map<String, byte[]> inputs = new LinkedHashMap<>();
    for (int i = 0; i < 3; i++) {
      inputs.put("random bytes #" + i, randomBytes(random, 64 << i * 2));
    }
    inputs.put("an HTTP/1.1 request", ascii("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    inputs.put(
        "an h2c upgrade",
        ascii(
            "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"));
    inputs.put(
        "a TLS ClientHello",
        concat(
            new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03},
            randomBytes(random, 509)));
    inputs.put(
        "a preface, then a frame over the maximum size",
        concat(preface, emptySettings, frameHeader(0xffffff, 0x0, 0, 1)));
    inputs.put(
        "a preface, then a SETTINGS frame of 7 bytes",
        concat(preface, frame(0x4, 0, 0, new byte[7])));
    inputs.put(
        "a preface, then HEADERS of garbage HPACK",
        concat(preface, emptySettings, frame(0x1, 0x5, 1, randomBytes(random, 40))));
    inputs.put(
        "a preface, then DATA on stream 0",
        concat(preface, emptySettings, frame(0x0, 0, 0, new byte[8])));

    Map<String, Integer> seen = new TreeMap<>();
    for (Map.Entry<String, byte[]> input : inputs.entrySet()) {
      String outcome = closedAfter(input.getValue(), Duration.ofSeconds(30));
      tally(seen, outcome.replaceAll(" after \\d+ bytes", ""));
      System.out.println("  " + input.getKey() + " -> " + outcome);
      assertThat(outcome).as(input.getKey()).startsWith("closed");
    }
    summary("not HTTP/2", inputs.size(), seen);

    // Not asserted: the server sets no limit on how long a connection may take over its preface
    // (one was still open after 90 s), so this only reports what it sees.
    String stalled = closedAfter(Arrays.copyOf(preface, 10), Duration.ofSeconds(2));
    System.out.println("  half a preface, then silence -> " + stalled);
  }

  private static UnaryOperator<Http2Headers> without(String name) {
    return headers -> {
      headers.remove(name);
      return headers;
    };
  }

  // --- the fuzzing

  private static void fuzz(
      String method, int count, Random random, Map<String, Integer> seen, List<String> failures)
      throws Exception {
    for (int first = 0; first < count; first += BATCH) {
      List<Payload> payloads = new ArrayList<>();
      List<Exchange> exchanges = new ArrayList<>();
      for (int i = first; i < Math.min(count, first + BATCH); i++) {
        Payload payload = FuzzedMessages.fuzzed(method, random);
        payloads.add(payload);
        exchanges.add(unary(method, payload.bytes()));
      }
      for (int i = 0; i < exchanges.size(); i++) {
        String input =
            "kv.KV/"
                + method
                + " request #"
                + (first + i)
                + " ("
                + payloads.get(i).kind()
                + ") "
                + hex(payloads.get(i).bytes());
        String outcome;
        try {
          outcome = check(method, exchanges.get(i));
        } catch (AssertionError e) {
          outcome = "failure";
          failures.add(input + ": " + e.getMessage());
        }
        tally(seen, outcome);
      }
    }
  }

  /** The outcome of a fuzzed request, or an AssertionError if it is not a proper answer. */
  private static String check(String method, Exchange exchange) throws Exception {
    if (method.equals("Watch")) {
      // A watch that opens stays open; its first message says it is in place.
      exchange.awaitEndOrData(ANSWER_TIMEOUT);
      if (!exchange.ended()) {
        assertWellFramed(exchange.data());
        exchange.cancel();
        exchange.await(ANSWER_TIMEOUT);
        return RESET_BY_TEST;
      }
    }
    exchange.await(ANSWER_TIMEOUT);
    if (exchange.grpcStatus() == null || !ALLOWED.contains(exchange.grpcStatus())) {
      throw new AssertionError("answered " + exchange);
    }
    if (!"200".equals(exchange.httpStatus())) {
      throw new AssertionError("answered HTTP " + exchange.httpStatus() + ": " + exchange);
    }
    if (exchange.grpcStatus() == Status.Code.OK && !method.equals("Watch")) {
      assertWellFramed(exchange.data());
    }
    if (exchange.grpcStatus() == Status.Code.INVALID_ARGUMENT) {
      // Bytes that do not parse, or a parsed request that the store refused.
      return exchange.grpcMessage().startsWith("malformed request")
          ? "INVALID_ARGUMENT (unparseable)"
          : "INVALID_ARGUMENT (refused)";
    }
    return exchange.grpcStatus().name();
  }

  private static void assertWellFramed(byte[] data) {
    if (data.length < 5 || data[0] != 0 || ByteBuffer.wrap(data, 1, 4).getInt() > data.length - 5) {
      throw new AssertionError("a response message that is not well framed: " + hex(data));
    }
  }

  private static Exchange unary(String method, byte[] message) throws InterruptedException {
    return client.send(grpcHeaders("/kv.KV/" + method), List.of(grpcFrame(message)), true);
  }

  // --- messages and frames by hand

  /** A SetRequest for {@code key} whose value makes it exactly {@code size} bytes long. */
  private static byte[] setRequest(String key, int size) {
    SetRequest request = SetRequest.newBuilder().setKey(key).setValue("").build();
    // The value's tag, then its length as a varint of 1 to 5 bytes, then its bytes.
    int value = 0;
    for (int lengthBytes = 1; lengthBytes <= 5; lengthBytes++) {
      value = size - request.getSerializedSize() - 1 - lengthBytes;
      if (varint(value).length == lengthBytes) {
        break;
      }
    }
    byte[] message = request.toBuilder().setValue("x".repeat(value)).build().toByteArray();
    assertThat(message).hasSize(size);
    return message;
  }

  private static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(bytes);
    }
    return out.toByteArray();
  }

  /** A GetRequest whose key is 64 MiB of 'a', gzipped to some 64 KiB. */
  private static byte[] gzippedKeyOf64MiB() throws IOException {
    int size = 64 << 20;
    byte[] chunk = new byte[64 * 1024];
    Arrays.fill(chunk, (byte) 'a');
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(concat(tag(1, 2), varint(size)));
      for (int written = 0; written < size; written += chunk.length) {
        gzip.write(chunk);
      }
    }
    return out.toByteArray();
  }

  private static byte[] gzipFrame(byte[] compressed) {
    return grpcFrame(1, compressed.length, compressed);
  }

  private static List<byte[]> chunks(byte[] bytes, int size) {
    List<byte[]> chunks = new ArrayList<>();
    for (int from = 0; from < bytes.length; from += size) {
      chunks.add(Arrays.copyOfRange(bytes, from, Math.min(bytes.length, from + size)));
    }
    return chunks;
  }

  private static byte[] frameHeader(int length, int type, int flags, int stream) {
    return ByteBuffer.allocate(9)
        .put((byte) (length >>> 16))
        .putShort((short) length)
        .put((byte) type)
        .put((byte) flags)
        .putInt(stream)
        .array();
  }

  private static byte[] frame(int type, int flags, int stream, byte[] payload) {
    return concat(frameHeader(payload.length, type, flags, stream), payload);
  }

  /**
   * Sends {@code bytes} on a fresh connection and says whether the server closed it within {@code
   * timeout}, and how much it sent first.
   */
  private static String closedAfter(byte[] bytes, Duration timeout) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout((int) timeout.toMillis());
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      long deadline = System.nanoTime() + timeout.toNanos();
      int received = 0;
      try {
        out.write(bytes);
        out.flush();
        byte[] buffer = new byte[4096];
        for (int read; (read = in.read(buffer)) != -1; ) {
          received += read;
          if (System.nanoTime() > deadline) {
            return "still open after " + received + " bytes";
          }
        }
        return "closed after " + received + " bytes";
      } catch (SocketTimeoutException e) {
        return "still open after " + received + " bytes";
      } catch (SocketException e) {
        return "closed (reset) after " + received + " bytes";
      }
    }
  }

  // --- bookkeeping

  private static void clearStore() throws Exception {
    Page page;
    String after = "";
    do {
      page =
          store
              .list(ListQuery.prefix("").limit(ListQuery.MAX_LIMIT).startAfter(after))
              .get(30, TimeUnit.SECONDS);
      for (KeyValue entry : page.entries()) {
        store.delete(entry.key()).get(30, TimeUnit.SECONDS);
        after = entry.key();
      }
    } while (page.more());
  }

  /** The least heap in use over a few full collections. */
  private static long usedHeapAfterGc() throws InterruptedException {
    long least = Long.MAX_VALUE;
    Runtime runtime = Runtime.getRuntime();
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(50);
      least = Math.min(least, runtime.totalMemory() - runtime.freeMemory());
    }
    return least;
  }

  private static void tally(Map<String, Integer> seen, String outcome) {
    seen.merge(outcome, 1, Integer::sum);
  }

  private static void summary(String what, int requests, Map<String, Integer> seen) {
    System.out.printf("HostileInputTest %s: %d requests, outcomes %s%n", what, requests, seen);
  }

  private static String hex(byte[] bytes) {
    return bytes.length <= 64
        ? HexFormat.of().formatHex(bytes)
        : HexFormat.of().formatHex(bytes, 0, 64) + "... (" + bytes.length + " bytes)";
  }
}
