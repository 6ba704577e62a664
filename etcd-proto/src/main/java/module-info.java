/** The generated Java classes of the subset of etcd's v3 gRPC API that kv speaks. */
// gRPC, protobuf and Guava are automatic modules; their names are fixed in their manifests.
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module dev.kv.etcd.api {
  requires transitive com.google.protobuf;
  requires transitive io.grpc;
  requires transitive io.grpc.protobuf;
  requires transitive io.grpc.stub;
  // The future stubs return Guava's ListenableFuture.
  requires transitive com.google.common;

  exports dev.kv.etcd.api.etcdserverpb;
  exports dev.kv.etcd.api.mvccpb;
}
