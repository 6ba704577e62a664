package dev.kv.server;

/** The stores {@code kv-server} can serve, as {@code --store} names them. */
enum StoreKind {
  /** Entries kept on this machine's disk, in a data directory: durable, for one server. */
  embedded,
  /** Entries kept in the server's memory: fast, lost when it stops. */
  memory,
  /** Entries kept in an etcd cluster, which several servers can share. */
  etcd
}
