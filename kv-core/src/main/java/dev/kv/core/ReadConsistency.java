package dev.kv.core;

/** How up to date a read must be. */
public enum ReadConsistency {
  /** Sees every write acknowledged before the read began. The default. */
  LINEARIZABLE,
  /**
   * May miss the most recent writes, in exchange for less work: on etcd, the member asked answers
   * alone, without consulting the others.
   */
  SERIALIZABLE
}
