package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.util.JsonFormat;
import dev.kv.core.memory.MemoryStore;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Clients written for the original kv service keep working: the bytes on the wire are those of its
 * {@code kv.proto}, and a client that knows nothing but the server's reflection can call it, as
 * grpcurl does.
 */
@Timeout(60)
class WireCompatibilityTest {

  private LoopbackServer loopback;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    loopback = LoopbackServer.start(new MemoryStore());
    channel = loopback.channel;
  }

  @AfterEach
  void stop() throws Exception {
    loopback.close();
  }

  @Test
  void originalWireFormat_setThenGet() {
    // SetRequest{key: "foo" (field 1), value: "bar" (field 2)}, SetResponse{ok: true (field 1)}.
    // Fields added since follow the original ones; the original clients skip them.
    assertThat(callRaw("kv.KV/Set", "0a03666f6f1203626172")).startsWith("0801");
    // GetRequest{key: "foo"}, GetResponse{value: "bar"}.
    assertThat(callRaw("kv.KV/Get", "0a03666f6f")).startsWith("0a03626172");
  }

  /**
   * The versions of reflection the server answers: v1, and v1alpha for older grpcurl, grpcui and
   * Postman. Their messages are the same on the wire.
   */
  enum Reflection {
    V1,
    V1ALPHA
  }

  @ParameterizedTest
  @EnumSource(Reflection.class)
  void reflectionAlone_listsTheService_andCarriesTheOriginalJsonCalls(Reflection version)
      throws Exception {
    assertThat(listServices(version)).contains("kv.KV", "grpc.health.v1.Health");
    ServiceDescriptor kv = describe(version, "kv.KV");

    String setAnswer = callJson(kv.findMethodByName("Set"), "{\"key\":\"foo\",\"value\":\"bar\"}");
    String getAnswer = callJson(kv.findMethodByName("Get"), "{\"key\":\"foo\"}");

    assertThat(setAnswer).startsWith("{\"ok\":true");
    assertThat(getAnswer).startsWith("{\"value\":\"bar\"");
  }

  @ParameterizedTest
  @EnumSource(Reflection.class)
  void reflection_servesTheTwoOriginalProtoFiles(Reflection version) throws Exception {
    ServiceDescriptor kv = describe(version, "kv.KV");

    assertThat(kv.getFile().getName()).isEqualTo("kv_service.proto");
    assertThat(kv.getFile().getDependencies())
        .extracting(FileDescriptor::getName)
        .contains("kv.proto");
    Descriptor set = kv.findMethodByName("Set").getInputType();
    assertThat(set.getFullName()).isEqualTo("kv.SetRequest");
    assertThat(set.findFieldByName("key").getNumber()).isEqualTo(1);
    assertThat(set.findFieldByName("value").getNumber()).isEqualTo(2);
  }

  private String callRaw(String method, String requestHex) {
    byte[] response =
        ClientCalls.blockingUnaryCall(
            channel,
            LoopbackServer.rawMethod(method),
            CallOptions.DEFAULT,
            HexFormat.of().parseHex(requestHex));
    return HexFormat.of().formatHex(response);
  }

  private String callJson(MethodDescriptor method, String json) throws Exception {
    DynamicMessage.Builder request = DynamicMessage.newBuilder(method.getInputType());
    JsonFormat.parser().merge(json, request);
    io.grpc.MethodDescriptor<DynamicMessage, DynamicMessage> descriptor =
        io.grpc.MethodDescriptor.<DynamicMessage, DynamicMessage>newBuilder()
            .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(method.getService().getFullName() + "/" + method.getName())
            .setRequestMarshaller(
                ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(method.getInputType())))
            .setResponseMarshaller(
                ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(method.getOutputType())))
            .build();
    DynamicMessage response =
        ClientCalls.blockingUnaryCall(channel, descriptor, CallOptions.DEFAULT, request.build());
    return JsonFormat.printer().omittingInsignificantWhitespace().print(response);
  }

  private List<String> listServices(Reflection version) throws Exception {
    ServerReflectionResponse response =
        reflect(version, ServerReflectionRequest.newBuilder().setListServices("").build());
    return response.getListServicesResponse().getServiceList().stream()
        .map(ServiceResponse::getName)
        .toList();
  }

  /** The service's descriptor, built from the files reflection sends, as grpcurl builds it. */
  private ServiceDescriptor describe(Reflection version, String service) throws Exception {
    ServerReflectionResponse response =
        reflect(
            version, ServerReflectionRequest.newBuilder().setFileContainingSymbol(service).build());
    Map<String, FileDescriptorProto> files = new HashMap<>();
    for (var bytes : response.getFileDescriptorResponse().getFileDescriptorProtoList()) {
      FileDescriptorProto file = FileDescriptorProto.parseFrom(bytes);
      files.put(file.getName(), file);
    }
    String serviceName = service.substring(service.lastIndexOf('.') + 1);
    for (FileDescriptorProto file : files.values()) {
      FileDescriptor built = build(file, files, new HashMap<>());
      if (built.findServiceByName(serviceName) != null) {
        return built.findServiceByName(serviceName);
      }
    }
    throw new AssertionError("reflection did not describe " + service);
  }

  private static FileDescriptor build(
      FileDescriptorProto file,
      Map<String, FileDescriptorProto> all,
      Map<String, FileDescriptor> built)
      throws Exception {
    if (built.containsKey(file.getName())) {
      return built.get(file.getName());
    }
    List<FileDescriptor> dependencies = new ArrayList<>();
    for (String dependency : file.getDependencyList()) {
      dependencies.add(build(all.get(dependency), all, built));
    }
    FileDescriptor result =
        FileDescriptor.buildFrom(file, dependencies.toArray(FileDescriptor[]::new));
    built.put(file.getName(), result);
    return result;
  }

  /** One request on a reflection stream of {@code version}, and its answer. */
  private ServerReflectionResponse reflect(Reflection version, ServerReflectionRequest request)
      throws Exception {
    return switch (version) {
      case V1 -> exchange(ServerReflectionGrpc.getServerReflectionInfoMethod(), request);
      case V1ALPHA ->
          ServerReflectionResponse.parseFrom(
              exchange(
                      io.grpc.reflection.v1alpha.ServerReflectionGrpc
                          .getServerReflectionInfoMethod(),
                      io.grpc.reflection.v1alpha.ServerReflectionRequest.parseFrom(
                          request.toByteString()))
                  .toByteString());
    };
  }

  private <Q, R> R exchange(io.grpc.MethodDescriptor<Q, R> method, Q request) throws Exception {
    CompletableFuture<R> answer = new CompletableFuture<>();
    StreamObserver<Q> requests =
        ClientCalls.asyncBidiStreamingCall(
            channel.newCall(method, CallOptions.DEFAULT),
            new StreamObserver<R>() {
              @Override
              public void onNext(R response) {
                answer.complete(response);
              }

              @Override
              public void onError(Throwable error) {
                answer.completeExceptionally(error);
              }

              @Override
              public void onCompleted() {}
            });
    requests.onNext(request);
    requests.onCompleted();
    return answer.get(30, TimeUnit.SECONDS);
  }
}
