package dev.kv.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostPortTest {

  @ParameterizedTest
  @CsvSource({
    "127.0.0.1:9986, 127.0.0.1, 9986",
    "localhost:0, localhost, 0",
    "[::1]:9986, ::1, 9986",
    "kv.example:65535, kv.example, 65535"
  })
  void parse_validAddress_readsHostAndPort(String text, String host, int port) {
    HostPort parsed = HostPort.parse(text);

    assertThat(parsed).isEqualTo(new HostPort(host, port));
    assertThat(parsed.toString()).isEqualTo(text);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "localhost",
        "localhost:",
        ":9986",
        "::1:9986",
        "host:port",
        "h:65536",
        "h:-1",
        "[]:1"
      })
  void parse_invalidAddress_saysWhatIsExpected(String text) {
    assertThatThrownBy(() -> HostPort.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected HOST:PORT");
  }

  @Test
  void isLoopback_onlyForThisMachine() {
    assertThat(new HostPort("127.0.0.1", 1).isLoopback()).isTrue();
    assertThat(new HostPort("::1", 1).isLoopback()).isTrue();
    assertThat(new HostPort("localhost", 1).isLoopback()).isTrue();
    assertThat(new HostPort("10.0.0.1", 1).isLoopback()).isFalse();
  }
}
