package dev.kv.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @ParameterizedTest
  @CsvSource({"500ms, 500", "5s, 5000", "2m, 120000", "1h, 3600000", "PT1.5S, 1500", "0s, 0"})
  void parse_readsEachForm(String text, long millis) {
    assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "5", "five seconds", "5 s", "-5s", "PT-5S", "5d"})
  void parse_invalidText_saysWhatIsExpected(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(text.isEmpty() ? "expected a duration" : text);
  }

  @ParameterizedTest
  @ValueSource(strings = {"0s", "25h", "3000000h"})
  void requireTimeout_outOfRange_isRefused(String text) {
    assertThatThrownBy(() -> Durations.requireTimeout(Durations.parse(text)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("longer than 0 and at most 24h");
  }

  @ParameterizedTest
  @ValueSource(strings = {"250ms", "5s", "90s", "2m", "3h", "1500ms"})
  void format_isReadBackExactly(String text) {
    Duration duration = Durations.parse(text);

    assertThat(Durations.format(duration)).isEqualTo(text);
  }
}
