package dev.kv.core.embedded;

import dev.kv.core.KvStore;
import dev.kv.core.KvStoreContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedStoreContractTest extends KvStoreContract {

  @TempDir Path dataDir;

  @Override
  protected KvStore newStore() {
    return EmbeddedStore.open(dataDir);
  }
}
