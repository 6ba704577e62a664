package dev.kv.core.memory;

import dev.kv.core.KvStore;
import dev.kv.core.ListingPinsContract;
import java.time.Duration;

class MemoryListingPinsTest extends ListingPinsContract {

  @Override
  protected KvStore newStore(Duration listingLease) {
    return MemoryStore.builder().listingLease(listingLease).historyLimit(1).build();
  }
}
