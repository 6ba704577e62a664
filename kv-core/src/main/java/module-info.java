/**
 * The kv storage port, {@link dev.kv.core.KvStore}, and its adapters.
 *
 * <p>Exported to everyone: the port, each adapter's entry point and the values their builders take
 * (addresses, durations, TLS files). The gRPC and thread plumbing is shared with kv's own server
 * and command line only.
 */
// gRPC, protobuf and RocksDB are automatic modules (RocksDB's jar names none: its name comes from
// the file name), and kv-server and kv-cli, the targets of the qualified exports, build after this.
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic", "module"})
module dev.kv.core {
  // The builders take and give gRPC channels and credentials; PemFiles gives gRPC's key manager.
  requires transitive io.grpc;
  requires transitive io.grpc.util;
  requires dev.kv.api;
  requires dev.kv.etcd.api;
  requires com.google.protobuf;
  // The export format's JSON lines (backup).
  requires com.google.gson;
  requires io.grpc.services;
  requires io.grpc.stub;
  requires io.grpc.netty;
  // grpc-netty, an automatic module, names none of the Netty modules it runs on; without these,
  // an application on the module path would not resolve them.
  requires io.netty.codec.http2;
  requires io.netty.transport.unix.common;
  // A remote store's network thread is one of its own (grpc.NetworkThread).
  requires io.netty.transport;
  requires io.netty.common;
  requires java.logging;
  // The stores' builders take a MeterRegistry (metrics(..)): its module comes with kv-core's.
  requires transitive micrometer.core;
  // Only the embedded store needs it, and it checks that it is there.
  requires static rocksdbjni;

  exports dev.kv.core;
  exports dev.kv.core.backup;
  exports dev.kv.core.cache;
  exports dev.kv.core.config;
  exports dev.kv.core.embedded;
  exports dev.kv.core.etcd;
  exports dev.kv.core.memory;
  exports dev.kv.core.remote;
  exports dev.kv.core.tls;
  exports dev.kv.core.grpc to
      dev.kv.server,
      dev.kv.cli;
  exports dev.kv.core.local to
      dev.kv.server,
      dev.kv.cli;
}
