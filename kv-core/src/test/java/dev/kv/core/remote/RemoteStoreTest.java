package dev.kv.core.remote;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.api.GetRequest;
import dev.kv.api.GetResponse;
import dev.kv.api.KVGrpc;
import dev.kv.api.WatchRequest;
import dev.kv.api.WatchResponse;
import dev.kv.core.KvException;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
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
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import org.awaitility.Awaitility;
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
    serve(
        new KVGrpc.KVImplBase() {
          @Override
          public void get(GetRequest request, StreamObserver<GetResponse> responses) {
            responses.onNext(GetResponse.newBuilder().setValue("lost").build());
            responses.onCompleted();
          }
        });
    // As a broken proxy might: the call ends OK, but its answer never arrives.
    Channel answerless = ClientInterceptors.intercept(channel, new DropAnswers());
    RemoteStore store = RemoteStore.over(answerless, "proxy", Duration.ofSeconds(30));

    assertThat(store.get("foo"))
        .failsWithin(Duration.ofSeconds(30))
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            KvException.class,
            e -> {
              assertThat(e.code()).isEqualTo(KvException.Code.INTERNAL);
              assertThat(e.getMessage()).isEqualTo("the call ended without an answer");
            });
  }

  @Test
  void watchRefusedByTheServer_failsItsStartWithTheError_andTellsTheListenerOnce()
      throws Exception {
    serve(
        new KVGrpc.KVImplBase() {
          @Override
          public void watch(WatchRequest request, StreamObserver<WatchResponse> responses) {
            responses.onError(
                Status.RESOURCE_EXHAUSTED
                    .withDescription("at the limit of open watches")
                    .asRuntimeException());
          }
        });
    RemoteStore store = RemoteStore.over(channel, "server", Duration.ofSeconds(30));
    List<KvException> errors = new CopyOnWriteArrayList<>();

    Watch watch =
        store.watch(
            WatchQuery.key("k"),
            new WatchListener() {
              @Override
              public void onEvent(WatchEvent event) {}

              @Override
              public void onError(KvException error) {
                errors.add(error);
              }
            });

    assertThat(watch.started())
        .failsWithin(Duration.ofSeconds(30))
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            KvException.class,
            e -> assertThat(e.code()).isEqualTo(KvException.Code.RESOURCE_EXHAUSTED));
    // Told once: no second error follows the first.
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .during(Duration.ofMillis(300))
        .until(() -> errors.size() == 1);
    assertThat(errors)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.code()).isEqualTo(KvException.Code.RESOURCE_EXHAUSTED);
              assertThat(e.getMessage()).isEqualTo("at the limit of open watches");
            });
  }

  /** Serves {@code service} in process, with {@link #channel} to it. */
  private void serve(KVGrpc.KVImplBase service) throws java.io.IOException {
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).addService(service).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
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
