package dev.kv.core.remote;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.api.GetRequest;
import dev.kv.api.GetResponse;
import dev.kv.api.KVGrpc;
import dev.kv.core.KvException;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The remote adapter facing a peer that misbehaves, which a real kv-server never does. */
@Timeout(30)
class RemoteStoreTest {

  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  @Test
  void callEndingWithoutAnAnswer_failsRatherThanHangs() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .addService(
                new KVGrpc.KVImplBase() {
                  @Override
                  public void get(GetRequest request, StreamObserver<GetResponse> responses) {
                    responses.onNext(GetResponse.newBuilder().setValue("lost").build());
                    responses.onCompleted();
                  }
                })
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
    // As a broken proxy might: the call ends OK, but its answer never arrives.
    Channel answerless = ClientInterceptors.intercept(channel, new DropAnswers());
    RemoteStore store = RemoteStore.over(answerless, "proxy", Duration.ofSeconds(30));

    assertThat(store.get("foo"))
        .failsWithin(Duration.ofSeconds(5))
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            KvException.class,
            e -> {
              assertThat(e.code()).isEqualTo(KvException.Code.INTERNAL);
              assertThat(e.getMessage()).isEqualTo("the call ended without an answer");
            });
  }

  private static final class DropAnswers implements ClientInterceptor {
    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
      return new SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<RespT> listener, Metadata headers) {
          super.start(
              new SimpleForwardingClientCallListener<>(listener) {
                @Override
                public void onMessage(RespT message) {}
              },
              headers);
        }
      };
    }
  }
}
