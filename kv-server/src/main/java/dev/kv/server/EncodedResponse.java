package dev.kv.server;

import dev.kv.api.KVGrpc;
import dev.kv.api.WatchRequest;
import dev.kv.api.WatchResponse;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link WatchResponse} encoded once: every watch it goes to sends these same bytes, as they are,
 * and they are counted once in what the server's watches hold ({@link WatchBudget}).
 */
final class EncodedResponse {

  /** Sends an encoded response as it is; the server never reads one. */
  static final MethodDescriptor.Marshaller<EncodedResponse> MARSHALLER =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(EncodedResponse response) {
          return new Bytes(response.bytes);
        }

        @Override
        public EncodedResponse parse(InputStream stream) {
          throw new UnsupportedOperationException(
              "kv-server sends watch responses, never reads one");
        }
      };

  private final byte[] bytes;
  private final long revision;
  private final boolean event;

  /** The watches waiting to send it; under the lock of the {@link WatchBudget}. */
  int holders;

  private EncodedResponse(byte[] bytes, long revision, boolean event) {
    this.bytes = bytes;
    this.revision = revision;
    this.event = event;
  }

  /**
   * @param revision the revision of the event, or for a {@code created} message the first one its
   *     watch delivers: where a client watches again from when this response is not sent
   */
  static EncodedResponse of(WatchResponse response, long revision) {
    return new EncodedResponse(response.toByteArray(), revision, !response.getCreated());
  }

  /**
   * {@code generated}, the kv.KV service as the generated code binds it, but for its Watch method,
   * which {@code watch} answers with encoded responses. Same name, same schema: clients and
   * reflection see no difference.
   */
  static ServerServiceDefinition withWatch(
      ServerServiceDefinition generated, ServerCallHandler<WatchRequest, EncodedResponse> watch) {
    MethodDescriptor<WatchRequest, EncodedResponse> method =
        KVGrpc.getWatchMethod().toBuilder(
                KVGrpc.getWatchMethod().getRequestMarshaller(), MARSHALLER)
            .build();
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(KVGrpc.SERVICE_NAME)
            .setSchemaDescriptor(generated.getServiceDescriptor().getSchemaDescriptor())
            .addMethod(method);
    List<ServerMethodDefinition<?, ?>> others = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> other : generated.getMethods()) {
      if (!other.getMethodDescriptor().getFullMethodName().equals(method.getFullMethodName())) {
        descriptor.addMethod(other.getMethodDescriptor());
        others.add(other);
      }
    }
    ServerServiceDefinition.Builder service = ServerServiceDefinition.builder(descriptor.build());
    others.forEach(service::addMethod);
    return service.addMethod(method, watch).build();
  }

  long revision() {
    return revision;
  }

  /** Whether it is an event, rather than a watch's {@code created} message. */
  boolean isEvent() {
    return event;
  }

  int size() {
    return bytes.length;
  }

  /** The bytes, which gRPC copies straight into its frames. */
  private static final class Bytes extends ByteArrayInputStream implements KnownLength, Drainable {
    Bytes(byte[] bytes) {
      super(bytes);
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      int drained = count - pos;
      target.write(buf, pos, drained);
      pos = count;
      return drained;
    }
  }
}
