package dev.kv.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {

  @Test
  void parse_readsBytesAndBinaryUnits() {
    assertThat(Sizes.parse("512")).isEqualTo(512);
    assertThat(Sizes.parse("4KiB")).isEqualTo(4096);
    assertThat(Sizes.parse("4k")).isEqualTo(4096);
    assertThat(Sizes.parse("2 MiB")).isEqualTo(2 << 20);
    assertThat(Sizes.parse("1528KiB")).isEqualTo(1528 * 1024);
    assertThat(Sizes.parse("1G")).isEqualTo(1 << 30);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "big", "-1", "1.5MiB", "4TB"})
  void parse_refusesWhatIsNotASize(String text) {
    assertThatThrownBy(() -> Sizes.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected a size such as 4096, 4KiB or 2MiB");
  }

  @Test
  void parse_refusesSizesFrom2GiB() {
    assertThatThrownBy(() -> Sizes.parse("2GiB")).hasMessageContaining("below 2GiB");
    assertThatThrownBy(() -> Sizes.parse("99999999999")).hasMessageContaining("below 2GiB");
  }

  @Test
  void format_writesWhatParseReadsBack() {
    for (int bytes : new int[] {0, 100, 4096, 1528 * 1024, 2 << 20}) {
      assertThat(Sizes.parse(Sizes.format(bytes))).isEqualTo(bytes);
    }
    assertThat(Sizes.format(1528 * 1024)).isEqualTo("1528KiB");
  }
}
