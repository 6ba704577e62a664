package dev.kv.core.memory;

import dev.kv.core.KvStore;
import dev.kv.core.KvStoreContract;

class MemoryStoreTest extends KvStoreContract {

  @Override
  protected KvStore newStore() {
    return new MemoryStore();
  }
}
