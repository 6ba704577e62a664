package dev.kv.core.cache;

import dev.kv.core.KvStore;
import dev.kv.core.KvStoreContract;
import dev.kv.core.memory.MemoryStore;

/** The cache changes no behaviour: the contract holds through it. */
class ReadCacheContractTest extends KvStoreContract {

  @Override
  protected KvStore newStore() {
    return ReadCache.over(new MemoryStore(), 1_000);
  }
}
