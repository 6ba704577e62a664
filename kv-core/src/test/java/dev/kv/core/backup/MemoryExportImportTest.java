package dev.kv.core.backup;

import dev.kv.core.KvStore;
import dev.kv.core.memory.MemoryStore;

class MemoryExportImportTest extends ExportImportContract {

  @Override
  protected KvStore newStore() {
    return new MemoryStore();
  }

  @Override
  protected String kind() {
    return "memory";
  }
}
