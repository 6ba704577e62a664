package dev.kv.core.embedded;

import dev.kv.core.KvException;

/**
 * RocksDB is an optional dependency of kv-core, needed by the embedded store alone: an application
 * that opens one without it is told which artifact to add.
 *
 * <p>For that message to be reached, {@link EmbeddedStore} and its builder must load without
 * RocksDB's classes. The JVM loads a class when it verifies a method that catches it or passes it
 * where a supertype is expected, so they catch {@code Exception} where {@code RocksDBException} is
 * meant; WithoutRocksDbTest fails if one does not.
 */
final class RocksDbLibrary {

  private RocksDbLibrary() {}

  /**
   * @throws KvException with {@link KvException.Code#FAILED_PRECONDITION} when RocksDB is missing
   */
  static void require() {
    try {
      Class.forName("org.rocksdb.RocksDB", false, RocksDbLibrary.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new KvException(
          KvException.Code.FAILED_PRECONDITION,
          "the embedded store needs RocksDB: add org.rocksdb:rocksdbjni to the application's"
              + " dependencies (kv-bom has its version)",
          e);
    }
  }
}
