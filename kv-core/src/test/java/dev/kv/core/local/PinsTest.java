package dev.kv.core.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

class PinsTest {

  private final List<String> released = new CopyOnWriteArrayList<>();

  @Test
  void use_renewsThePin_untilItsLeaseRunsOutUnused_thenItIsReleased() {
    try (Pins<Integer, String> pins = new Pins<>(Duration.ofMillis(300), 8, released::add, "t")) {
      pins.pin(1, "one");

      try (Pins<Integer, String>.Use use = pins.use(1).orElseThrow()) {
        assertThat(use.value()).isEqualTo("one");
      }
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> released.contains("one"));
      assertThat(pins.use(1)).isEmpty();
    }
  }

  @Test
  void aValueInUse_isReleasedOnlyWhenItsUseEnds() throws Exception {
    try (Pins<Integer, String> pins = new Pins<>(Duration.ofMillis(100), 8, released::add, "t")) {
      pins.pin(1, "one");
      Pins<Integer, String>.Use use = pins.use(1).orElseThrow();

      Thread.sleep(500);
      assertThat(pins.size()).isZero();
      assertThat(released).isEmpty();

      use.close();
      assertThat(released).containsExactly("one");
    }
  }

  @Test
  void overTheCap_theLeastRecentlyUsedIsReleased() {
    try (Pins<Integer, String> pins = new Pins<>(Duration.ofMinutes(2), 2, released::add, "t")) {
      pins.pin(1, "one");
      pins.pin(2, "two");
      pins.use(1).orElseThrow().close();

      pins.pin(3, "three");

      assertThat(released).containsExactly("two");
      assertThat(pins.use(2)).isEmpty();
      assertThat(pins.size()).isEqualTo(2);
    }
  }

  @Test
  void pinIfAbsent_makesTheValueOnlyWhenTheKeyIsNotPinned() {
    List<String> made = new CopyOnWriteArrayList<>();
    try (Pins<Integer, String> pins = new Pins<>(Duration.ofMinutes(2), 8, released::add, "t")) {
      pins.pinIfAbsent(1, () -> "one" + made.add("one"));
      pins.pinIfAbsent(1, () -> "again" + made.add("again"));

      assertThat(made).containsExactly("one");
      assertThat(released).isEmpty();
      try (Pins<Integer, String>.Use use = pins.use(1).orElseThrow()) {
        assertThat(use.value()).isEqualTo("onetrue");
      }
    }
  }

  @Test
  void pinningAKeyPinnedAlready_keepsTheFirstValue_andReleasesTheSecond() {
    try (Pins<Integer, String> pins = new Pins<>(Duration.ofMinutes(2), 8, released::add, "t")) {
      pins.pin(1, "first");
      pins.pin(1, "second");

      assertThat(released).containsExactly("second");
      assertThat(pins.use(1).orElseThrow().value()).isEqualTo("first");
    }
  }

  @Test
  void close_releasesEveryPin_andLaterPinsAtOnce() {
    Pins<Integer, String> pins = new Pins<>(Duration.ofMinutes(2), 8, released::add, "t");
    pins.pin(1, "one");
    pins.pin(2, "two");

    pins.close();
    pins.pin(3, "three");

    assertThat(released).containsExactlyInAnyOrder("one", "two", "three");
    assertThat(pins.use(1)).isEmpty();
  }
}
