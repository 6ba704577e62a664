package dev.kv.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kv.core.memory.MemoryStore;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class ListingTest {

  @Test
  void pagesAfterTheFirst_areReadAtItsRevision_whateverIsWrittenMeanwhile() {
    try (MemoryStore store = new MemoryStore()) {
      for (int i = 0; i < 5; i++) {
        store.blocking().set("k" + i, "old");
      }
      Listing pages = Listing.of(store, ListQuery.prefix("k").limit(2));
      List<String> listed = new ArrayList<>();
      while (pages.hasNext()) {
        pages.next().entries().forEach(entry -> listed.add(entry.key() + "=" + entry.value()));
        store.blocking().set("k4", "new");
        store.blocking().set("k5", "new");
      }

      assertThat(listed).containsExactly("k0=old", "k1=old", "k2=old", "k3=old", "k4=old");
      assertThatThrownBy(pages::next).isInstanceOf(NoSuchElementException.class);
    }
  }
}
