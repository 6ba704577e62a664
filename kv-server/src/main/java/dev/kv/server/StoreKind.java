package dev.kv.server;

import dev.kv.core.KvStore;
import dev.kv.core.memory.MemoryStore;

/** The stores {@code kv-server} can serve, as {@code --store} names them. */
enum StoreKind {
  /** Entries kept in the server's memory: fast, lost when it stops. */
  memory {
    @Override
    KvStore open() {
      return new MemoryStore();
    }
  };

  abstract KvStore open();
}
