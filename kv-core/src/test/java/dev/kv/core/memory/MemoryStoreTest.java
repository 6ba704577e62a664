package dev.kv.core.memory;

import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.KvStoreContract;
import org.junit.jupiter.api.Test;

class MemoryStoreTest extends KvStoreContract {

  @Override
  protected KvStore newStore() {
    return new MemoryStore();
  }

  @Test
  void closedStore_failsWithUnavailable() {
    store.close();

    assertFailsWith(store.get("foo"), KvException.Code.UNAVAILABLE);
    assertFailsWith(store.set("foo", "bar"), KvException.Code.UNAVAILABLE);
  }
}
