package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.api.WatchResponse;
import dev.kv.core.KeyValue;
import dev.kv.core.WatchEvent;
import dev.kv.core.grpc.ApiMessages;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

class EncodedEventsTest {

  private final EncodedEvents encoded = new EncodedEvents();

  @Test
  void oneChange_isEncodedOnce_forEveryWatchItGoesTo() {
    WatchEvent change = put("k", "x".repeat(1 << 20), 7);

    EncodedResponse first = encoded.of(change);

    assertThat(encoded.of(change)).isSameAs(first);
    assertThat(encoded.of(put("k", "x".repeat(1 << 20), 7)))
        .as("the same change, as another watch of the store may get it")
        .isSameAs(first);
    assertThat(encoded.of(put("k", "x".repeat(1 << 20), 8))).isNotSameAs(first);
  }

  @Test
  void theBytesSent_areTheWatchResponseOfTheChange() throws Exception {
    WatchEvent change = put("k", "v", 7);

    EncodedResponse response = encoded.of(change);

    try (InputStream sent = EncodedResponse.MARSHALLER.stream(response)) {
      assertThat(WatchResponse.parseFrom(sent)).isEqualTo(ApiMessages.response(change));
    }
    assertThat(response.revision()).isEqualTo(7);
  }

  private static WatchEvent put(String key, String value, long revision) {
    return new WatchEvent(WatchEvent.Type.PUT, new KeyValue(key, value, 2, revision, 1));
  }
}
