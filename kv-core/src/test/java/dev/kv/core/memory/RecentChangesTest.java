package dev.kv.core.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kv.core.KeyValue;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import org.junit.jupiter.api.Test;

class RecentChangesTest {

  @Test
  void beyondItsLimit_forgetsTheOldest_andSaysWhichRevisionItKeepsFrom() {
    RecentChanges history = new RecentChanges(2);
    assertThat(history.firstKept()).isEqualTo(1);

    history.add(put("a", 2));
    history.add(put("b", 3));
    history.add(put("c", 4));

    assertThat(history.firstKept()).isEqualTo(3);
    assertThat(history.since(1, WatchQuery.prefix("")).map(WatchEvent::revision))
        .containsExactly(3L, 4L);
  }

  @Test
  void since_givesTheChangesFromItsStart_thatTheQueryCovers() {
    RecentChanges history = new RecentChanges(10);
    history.add(put("a", 2));
    history.add(put("b", 3));
    history.add(WatchEvent.deleted("a", 4));
    history.add(put("a", 5));

    assertThat(history.since(3, WatchQuery.key("a")).map(WatchEvent::revision))
        .containsExactly(4L, 5L);
  }

  @Test
  void aLimitBelowOne_isRefused() {
    assertThatThrownBy(() -> new RecentChanges(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("historyLimit must be at least 1, not 0");
  }

  private static WatchEvent put(String key, long revision) {
    return new WatchEvent(WatchEvent.Type.PUT, new KeyValue(key, "v", revision, revision, 1));
  }
}
