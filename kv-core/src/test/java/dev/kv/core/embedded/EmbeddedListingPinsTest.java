package dev.kv.core.embedded;

import dev.kv.core.KvStore;
import dev.kv.core.ListingPinsContract;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedListingPinsTest extends ListingPinsContract {

  @TempDir Path dataDir;

  @Override
  protected KvStore newStore(Duration listingLease) {
    return EmbeddedStore.builder()
        .dataDir(dataDir)
        .listingLease(listingLease)
        .historyLimit(1)
        .build();
  }
}
