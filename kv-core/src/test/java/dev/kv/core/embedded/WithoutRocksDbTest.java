package dev.kv.core.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.Applications;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kv-core declares RocksDB optional: an application that opens an embedded store without it learns
 * which artifact to add, rather than meeting a NoClassDefFoundError.
 */
@Timeout(60)
class WithoutRocksDbTest {

  private static final String APPLICATION =
      """
      public class OpensAStore {
        public static void main(String[] args) {
          try {
            dev.kv.core.embedded.EmbeddedStore.open(java.nio.file.Path.of(args[0])).close();
            System.out.println("opened");
          } catch (dev.kv.core.KvException e) {
            System.out.println(e.code() + ": " + e.getMessage());
          }
        }
      }
      """;

  @TempDir Path work;

  @Test
  void open_withoutRocksDb_failsNamingTheArtifactToAdd() throws Exception {
    Path source = Files.writeString(work.resolve("OpensAStore.java"), APPLICATION);
    String printed =
        Applications.java(
            "-cp",
            Applications.path(
                Applications.kvCoreAndItsDependencies().stream()
                    .filter(entry -> !entry.contains("rocksdbjni"))
                    .toList()),
            source.toString(),
            work.resolve("data").toString());

    assertThat(printed)
        .isEqualTo(
            "FAILED_PRECONDITION: the embedded store needs RocksDB: add org.rocksdb:rocksdbjni to"
                + " the application's dependencies (kv-bom has its version)\n");
    assertThat(work.resolve("data")).doesNotExist();
  }
}
