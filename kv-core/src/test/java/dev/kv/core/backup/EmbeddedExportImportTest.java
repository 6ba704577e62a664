package dev.kv.core.backup;

import dev.kv.core.KvStore;
import dev.kv.core.embedded.EmbeddedStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedExportImportTest extends ExportImportContract {

  @TempDir Path dataDirs;

  @Override
  protected KvStore newStore() throws Exception {
    return EmbeddedStore.open(Files.createTempDirectory(dataDirs, "store"));
  }

  @Override
  protected String kind() {
    return "embedded";
  }
}
