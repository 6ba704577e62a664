package dev.kv.core;

import java.util.Objects;

/**
 * What a snapshot of a whole store holds: see {@link KvStore#snapshot}.
 *
 * @param format how the file is laid out: {@link #EMBEDDED} or {@link #ETCD}
 * @param revision the store revision the snapshot holds the store at
 * @param bytes the file's size
 */
public record SnapshotInfo(String format, long revision, long bytes) {

  /** A data directory of the embedded store, as {@code kv-server restore} reads it. */
  public static final String EMBEDDED = "kv-embedded";

  /** etcd's database file, as {@code etcdctl snapshot restore} reads it. */
  public static final String ETCD = "etcd";

  public SnapshotInfo {
    Objects.requireNonNull(format, "format");
  }
}
