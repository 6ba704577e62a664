package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.api.KVGrpc;
import io.grpc.BindableService;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import org.junit.jupiter.api.Test;

class CallFailureInterceptorTest {

  private final BindableService service = new KVGrpc.KVImplBase() {};

  @Test
  void guard_sendsResponsesWithTheServicesOwnMarshaller_soTheyAreSerialisedOnce() {
    ServerServiceDefinition guarded = CallFailureInterceptor.guard(service);

    for (ServerMethodDefinition<?, ?> method : service.bindService().getMethods()) {
      String name = method.getMethodDescriptor().getFullMethodName();
      assertThat(guarded.getMethod(name).getMethodDescriptor().getResponseMarshaller())
          .as(name)
          .isSameAs(method.getMethodDescriptor().getResponseMarshaller());
    }
  }

  @Test
  void guard_keepsTheServicesNameMethodsAndSchema() {
    ServerServiceDefinition bound = service.bindService();
    ServerServiceDefinition guarded = CallFailureInterceptor.guard(service);

    assertThat(guarded.getServiceDescriptor().getName())
        .isEqualTo(bound.getServiceDescriptor().getName());
    assertThat(guarded.getServiceDescriptor().getSchemaDescriptor())
        .isSameAs(bound.getServiceDescriptor().getSchemaDescriptor());
    assertThat(guarded.getMethods())
        .extracting(method -> method.getMethodDescriptor().getFullMethodName())
        .containsExactlyInAnyOrderElementsOf(
            bound.getMethods().stream()
                .map(method -> method.getMethodDescriptor().getFullMethodName())
                .toList());
  }
}
