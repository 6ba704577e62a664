package dev.kv.core.backup;

import java.time.Instant;
import java.util.Objects;

/**
 * The first line of an export: what the keys were read from, and at which revision.
 *
 * @param store the kind of store exported, such as {@code embedded}, {@code memory} or {@code etcd}
 * @param source where the store was reached, such as {@code kv-server at 10.0.0.5:9986}; never a
 *     credential
 * @param prefix the prefix of the keys exported; empty for every key
 * @param revision the store revision every key was read at
 * @param created when the export started
 */
public record ExportHeader(
    String store, String source, String prefix, long revision, Instant created) {

  public ExportHeader {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(prefix, "prefix");
    Objects.requireNonNull(created, "created");
  }
}
