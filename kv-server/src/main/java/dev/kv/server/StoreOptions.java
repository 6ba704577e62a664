package dev.kv.server;

import dev.kv.core.KvStore;
import dev.kv.core.cache.ReadCache;
import dev.kv.core.embedded.EmbeddedStore;
import dev.kv.core.memory.MemoryStore;
import dev.kv.launch.CommandLines;
import dev.kv.launch.EtcdOptions;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import org.slf4j.spi.LoggingEventBuilder;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The options that choose kv-server's store, and the store they open. */
final class StoreOptions {

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--store",
      paramLabel = "STORE",
      defaultValue = "${env:KV_STORE:-embedded}",
      description = {
        "Where the data is kept: ${COMPLETION-CANDIDATES}. embedded keeps it on this machine's "
            + "disk, in --data-dir, and survives restarts and crashes; memory keeps it in this "
            + "process only, and loses it when the server stops; etcd keeps it in an etcd "
            + "cluster (see --etcd-endpoints), which several kv-servers can share.",
        "Env: KV_STORE. Default: ${DEFAULT-VALUE}."
      })
  StoreKind store;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      defaultValue = "${env:KV_DATA_DIR:-kv-data}",
      description = {
        "With --store embedded: the directory that holds the data, made if missing. One "
            + "kv-server at a time may use it.",
        "Env: KV_DATA_DIR. Default: ${DEFAULT-VALUE}, in the working directory."
      })
  Path dataDir;

  @Option(
      names = "--salvage",
      description = {
        "With --store embedded: open a data directory whose write-ahead log is damaged with what "
            + "can be read of it, rather than refusing it; the writes the damage hides are lost. "
            + "The log files as they were are kept in the directory's salvaged/, and the log says "
            + "what was kept. For one start after a refusal: restart without it. No environment "
            + "variable, so that it is never left on."
      })
  boolean salvage;

  @Mixin EtcdOptions etcd;

  @Option(
      names = "--read-cache",
      paramLabel = "KEYS",
      defaultValue = "${env:KV_READ_CACHE:-100000}",
      description = {
        "With --store etcd: how many keys to keep in memory for serializable reads, kept "
            + "current by a watch; 0 for none. A serializable read never returns a value older "
            + "than the last write acknowledged by this server.",
        "Env: KV_READ_CACHE. Default: ${DEFAULT-VALUE}."
      })
  int readCache;

  /** Opens the store the options describe, measuring nothing. */
  KvStore open() {
    return open(null);
  }

  /**
   * Opens the store the options describe; a mistake in them is a usage error.
   *
   * @param metrics where the store measures its operations (and its cache, its etcd calls or its
   *     disk); null for nowhere
   */
  KvStore open(MeterRegistry metrics) {
    if (salvage && store != StoreKind.embedded) {
      throw CommandLines.usageError(
          spec,
          "--salvage is for --store embedded only: a "
              + store
              + " store has no log of its own to salvage");
    }
    return switch (store) {
      case embedded ->
          EmbeddedStore.builder().dataDir(dataDir).salvage(salvage).metrics(metrics).build();
      case memory -> MemoryStore.builder().metrics(metrics).build();
      case etcd -> {
        if (etcd.endpoints() == null) {
          throw CommandLines.usageError(
              spec,
              "--store etcd needs --etcd-endpoints (or KV_ETCD_ENDPOINTS), such as "
                  + "http://127.0.0.1:2379");
        }
        if (readCache < 0) {
          throw CommandLines.usageError(
              spec, "--read-cache takes a number of keys, 0 or more, not " + readCache);
        }
        KvStore etcdStore =
            CommandLines.usage(spec, () -> etcd.storeBuilder().metrics(metrics).build());
        yield readCache == 0 ? etcdStore : ReadCache.over(etcdStore, readCache, metrics);
      }
    };
  }

  /** Adds the store, as the start-up line names it, to {@code line}. */
  void describe(LoggingEventBuilder line) {
    line.addKeyValue("store", store);
    switch (store) {
      case embedded -> line.addKeyValue("dir", dataDir.toAbsolutePath().normalize());
      case memory -> {}
      case etcd ->
          line.addKeyValue("endpoints", etcd.endpoints()).addKeyValue("read_cache", readCache);
    }
  }
}
