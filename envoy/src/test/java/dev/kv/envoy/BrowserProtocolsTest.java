package dev.kv.envoy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.kv.api.GetRequest;
import dev.kv.api.GetResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What curl and browsers get from Envoy's kv listener, with envoy.yaml as shipped in front of two
 * real replicas ({@code envoy/local.sh}): HTTP/JSON over HTTP/1.1 through the transcoder, its
 * errors as HTTP statuses, gRPC-Web, and CORS for this machine's pages only.
 */
@Timeout(300)
class BrowserProtocolsTest {

  private static final String LOCAL_PAGE = "http://localhost:3000";

  @RegisterExtension static final RunningSystem running = new RunningSystem(2, 1);
  private static final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  @Test
  void put_thenGet_overHttp1_answersTheValueAsJson() throws Exception {
    HttpResponse<String> put = send("PUT", "/v1/kv/greeting", "{\"value\":\"hello\"}");
    HttpResponse<String> get = send("GET", "/v1/kv/greeting", null);

    assertThat(put.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    assertThat(put.statusCode()).isEqualTo(200);
    assertThat(json(put).get("ok").getAsBoolean()).isTrue();
    assertThat(get.statusCode()).isEqualTo(200);
    assertThat(get.headers().firstValue("content-type")).hasValue("application/json");
    JsonObject entry = json(get);
    assertThat(entry.get("value").getAsString()).isEqualTo("hello");
    assertThat(entry.get("mod_revision").getAsLong())
        .isEqualTo(json(put).get("revision").getAsLong());
  }

  @Test
  void keyWithSlashes_isTheWholeRestOfThePath() throws Exception {
    assertThat(send("PUT", "/v1/kv/app/config/db", "{\"value\":\"pg\"}").statusCode())
        .isEqualTo(200);

    assertThat(json(send("GET", "/v1/kv/app/config/db", null)).get("value").getAsString())
        .isEqualTo("pg");
    assertThat(send("GET", "/v1/kv/app/config", null).statusCode()).isEqualTo(404);
  }

  @Test
  void set_takesItsOtherFieldsFromTheBody() throws Exception {
    send("PUT", "/v1/kv/once", "{\"value\":\"first\",\"if_absent\":true}");

    JsonObject second =
        json(send("PUT", "/v1/kv/once", "{\"value\":\"second\",\"if_absent\":true}"));

    assertThat(second.get("ok").getAsBoolean()).isFalse();
    assertThat(second.getAsJsonObject("current").get("value").getAsString()).isEqualTo("first");
  }

  @Test
  void list_takesItsFieldsAsQueryParameters() throws Exception {
    for (String key : new String[] {"list/a", "list/b", "list/c", "listless"}) {
      send("PUT", "/v1/kv/" + key, "{\"value\":\"v\"}");
    }

    JsonObject page = json(send("GET", "/v1/kv?prefix=list/&limit=2&keys_only=true", null));

    assertThat(page.getAsJsonArray("entries"))
        .extracting(entry -> entry.getAsJsonObject().get("key").getAsString())
        .containsExactly("list/a", "list/b");
    assertThat(page.get("more").getAsBoolean()).isTrue();
  }

  @Test
  void listPage_largerThanEnvoysDefaultBuffer_comesWhole() throws Exception {
    String value = "x".repeat(500_000);
    for (int i = 0; i < 4; i++) {
      send("PUT", "/v1/kv/large/" + i, "{\"value\":\"" + value + "\"}");
    }

    HttpResponse<String> list = send("GET", "/v1/kv?prefix=large/", null);

    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(json(list).getAsJsonArray("entries")).hasSize(4);
  }

  @Test
  void delete_removesTheKey() throws Exception {
    send("PUT", "/v1/kv/doomed", "{\"value\":\"v\"}");

    HttpResponse<String> delete = send("DELETE", "/v1/kv/doomed", null);

    assertThat(delete.statusCode()).isEqualTo(200);
    assertThat(json(delete).get("deleted").getAsLong()).isEqualTo(1);
    assertThat(send("GET", "/v1/kv/doomed", null).statusCode()).isEqualTo(404);
  }

  @Test
  void get_missingKey_is404_withAJsonBodyNamingTheKey() throws Exception {
    HttpResponse<String> get = send("GET", "/v1/kv/no/such/key", null);

    assertThat(get.statusCode()).isEqualTo(404);
    assertThat(get.headers().firstValue("content-type")).hasValue("application/json");
    JsonObject status = json(get);
    assertThat(status.get("code").getAsInt()).isEqualTo(5); // NOT_FOUND
    assertThat(status.get("message").getAsString()).contains("no/such/key");
  }

  @Test
  void emptyKey_is400_withTheServersReason() throws Exception {
    HttpResponse<String> put = send("PUT", "/v1/kv/", "{\"value\":\"v\"}");

    assertThat(put.statusCode()).isEqualTo(400);
    assertThat(json(put).get("code").getAsInt()).isEqualTo(3); // INVALID_ARGUMENT
    assertThat(json(put).get("message").getAsString()).contains("key must not be empty");
  }

  @Test
  void unknownQueryParameter_is400_beforeAnyReplica() throws Exception {
    HttpResponse<String> get = send("GET", "/v1/kv/greeting?consistancy=SERIALIZABLE", null);

    assertThat(get.statusCode()).isEqualTo(400);
    assertThat(get.body()).contains("consistancy");
  }

  @Test
  void unknownRoute_is404() throws Exception {
    assertThat(send("PATCH", "/v1/kv/greeting", "{}").statusCode()).isEqualTo(404);
    assertThat(send("GET", "/v2/kv/greeting", null).statusCode()).isEqualTo(404);
  }

  @Test
  void watch_streamsOneJsonObjectALine_untilTheClientLeaves() throws Exception {
    CompletableFuture<HttpResponse<Stream<String>>> watch =
        http.sendAsync(
            request("GET", "/v1/watch/watched/?prefix=true", null), BodyHandlers.ofLines());
    HttpResponse<Stream<String>> response = watch.get(30, TimeUnit.SECONDS);
    try (Stream<String> lines = response.body()) {
      Iterator<String> events = lines.iterator();

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(
              JsonParser.parseString(events.next()).getAsJsonObject().get("created").getAsBoolean())
          .isTrue();
      send("PUT", "/v1/kv/watched/x", "{\"value\":\"1\"}");
      JsonObject put = JsonParser.parseString(events.next()).getAsJsonObject();
      assertThat(put.get("type").getAsString()).isEqualTo("PUT");
      assertThat(put.getAsJsonObject("entry").get("key").getAsString()).isEqualTo("watched/x");
    }
  }

  @Test
  void readsThroughTheTranscoder_takeTheGetRoute_triedAgainOnAnotherReplica() throws Exception {
    send("PUT", "/v1/kv/retried", "{\"value\":\"v\"}");
    running.system().kill("kv-server-2");
    try {
      // Until its health checks fail, Envoy still picks the dead replica every other call; the
      // Get route's retry policy sends those to the other one.
      for (int i = 0; i < 10; i++) {
        assertThat(send("GET", "/v1/kv/retried", null).statusCode()).as("call " + i).isEqualTo(200);
      }
    } finally {
      running.system().start("kv-server-2");
    }
  }

  @Test
  void grpcWeb_get_answersADataFrame_andTheStatusInATrailerFrame() throws Exception {
    send("PUT", "/v1/kv/web", "{\"value\":\"from a browser\"}");
    byte[] frame = frame(0, GetRequest.newBuilder().setKey("web").build().toByteArray());

    HttpResponse<byte[]> response =
        http.send(
            HttpRequest.newBuilder(uri("/kv.KV/Get"))
                .timeout(Duration.ofSeconds(30))
                .header("content-type", "application/grpc-web+proto")
                .header("x-grpc-web", "1")
                .header("origin", LOCAL_PAGE)
                .POST(BodyPublishers.ofByteArray(frame))
                .build(),
            BodyHandlers.ofByteArray());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type"))
        .hasValue("application/grpc-web+proto");
    assertThat(response.headers().firstValue("access-control-allow-origin")).hasValue(LOCAL_PAGE);
    DataInputStream frames = new DataInputStream(new ByteArrayInputStream(response.body()));
    assertThat(frames.readUnsignedByte()).as("a data frame").isZero();
    byte[] message = frames.readNBytes(frames.readInt());
    assertThat(GetResponse.parseFrom(message).getValue()).isEqualTo("from a browser");
    assertThat(frames.readUnsignedByte()).as("a trailer frame").isEqualTo(0x80);
    String trailers = new String(frames.readNBytes(frames.readInt()), StandardCharsets.US_ASCII);
    assertThat(trailers).containsIgnoringCase("grpc-status:0");
  }

  @Test
  void corsPreflight_fromAPageOfThisMachine_isAllowed() throws Exception {
    HttpResponse<String> preflight = preflight(LOCAL_PAGE, "/v1/kv/greeting", "PUT");

    assertThat(preflight.statusCode()).isEqualTo(200);
    assertThat(preflight.headers().firstValue("access-control-allow-origin")).hasValue(LOCAL_PAGE);
    assertThat(preflight.headers().firstValue("access-control-allow-methods").orElseThrow())
        .contains("PUT");
    assertThat(preflight.headers().firstValue("access-control-allow-headers").orElseThrow())
        .contains("content-type", "x-grpc-web");
    assertThat(
            preflight("http://127.0.0.1:8080", "/kv.KV/Get", "POST")
                .headers()
                .firstValue("access-control-allow-origin"))
        .hasValue("http://127.0.0.1:8080");
  }

  @Test
  void corsPreflight_fromAnotherSite_isNotAllowed() throws Exception {
    for (String path : new String[] {"/v1/kv/greeting", "/kv.KV/Get"}) {
      HttpResponse<String> preflight = preflight("https://example.com", path, "PUT");

      assertThat(preflight.headers().firstValue("access-control-allow-origin")).as(path).isEmpty();
    }
    HttpResponse<String> get =
        http.send(
            HttpRequest.newBuilder(uri("/v1/kv/greeting"))
                .header("origin", "https://example.com")
                .build(),
            BodyHandlers.ofString());
    assertThat(get.headers().firstValue("access-control-allow-origin")).isEmpty();
  }

  private static HttpResponse<String> preflight(String origin, String path, String method)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(uri(path))
            .timeout(Duration.ofSeconds(30))
            .method("OPTIONS", BodyPublishers.noBody())
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "content-type,x-grpc-web")
            .build(),
        BodyHandlers.ofString());
  }

  private static HttpResponse<String> send(String method, String path, String body)
      throws IOException, InterruptedException {
    return http.send(request(method, path, body), BodyHandlers.ofString());
  }

  private static HttpRequest request(String method, String path, String body) {
    return HttpRequest.newBuilder(uri(path))
        .timeout(Duration.ofSeconds(30))
        .method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body))
        .build();
  }

  private static URI uri(String path) {
    return URI.create("http://" + running.system().kv() + path);
  }

  private static JsonObject json(HttpResponse<String> response) {
    return JsonParser.parseString(response.body()).getAsJsonObject();
  }

  /** A gRPC(-Web) message frame: a flags byte, the length, the bytes. */
  private static byte[] frame(int flags, byte[] message) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeByte(flags);
    out.writeInt(message.length);
    out.write(message);
    return bytes.toByteArray();
  }
}
