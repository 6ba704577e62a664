package dev.kv.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KeysTest {

  @Test
  void prefixEnd_isTheFirstKeyAfterEveryKeyUnderThePrefix() {
    assertThat(Keys.prefixEnd("a/")).isEqualTo("a0");
    assertThat(Keys.prefixEnd("ab")).isEqualTo("ac");
    // After U+D7FF comes U+E000: the surrogates are not characters.
    assertThat(Keys.prefixEnd("x\uD7FF")).isEqualTo("x\uE000");
    // The highest code point cannot grow: the one before it does.
    assertThat(Keys.prefixEnd("x" + new String(Character.toChars(Character.MAX_CODE_POINT))))
        .isEqualTo("y");
    assertThat(Keys.prefixEnd(new String(Character.toChars(Character.MAX_CODE_POINT)))).isEmpty();
    assertThat(Keys.prefixEnd("")).isEmpty();
  }

  @Test
  void order_isCodePointOrder_notJavasUtf16Order() {
    String emoji = new String(Character.toChars(0x1F600));

    assertThat(Keys.ORDER.compare("\uFFFD", emoji)).isNegative();
    assertThat("\uFFFD".compareTo(emoji)).isPositive();
    assertThat(Keys.ORDER.compare("a", "ab")).isNegative();
    assertThat(Keys.ORDER.compare("ab", "ab")).isZero();
  }
}
