/**
 * The generated Java classes of kv's public gRPC API: messages and the {@code KV} service stubs.
 */
// gRPC, protobuf and Guava are automatic modules; their names are fixed in their manifests.
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module dev.kv.api {
  requires transitive com.google.protobuf;
  requires transitive io.grpc;
  requires transitive io.grpc.protobuf;
  requires transitive io.grpc.stub;
  // The future stub returns Guava's ListenableFuture.
  requires transitive com.google.common;
  // google/api/annotations.proto, imported for the HTTP routes; no name in its manifest.
  requires proto.google.common.protos;

  exports dev.kv.api;
}
