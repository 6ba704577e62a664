package dev.kv.server;

import static dev.kv.server.KvServiceTest.getRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.kv.api.KVGrpc;
import dev.kv.core.KvStore;
import dev.kv.core.config.HostPort;
import io.grpc.StatusRuntimeException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Which threads run the calls: the network's, since no store waits in its calls, unless asked. */
@Timeout(60)
class CallThreadsTest {

  @Test
  void byDefault_storeIsCalledOnTheNetworkThreads() throws Exception {
    assertThat(threadOfAGet(true)).startsWith("kv-server-network");
  }

  @Test
  void notOnNetworkThreads_storeIsCalledFromThePool() throws Exception {
    assertThat(threadOfAGet(false)).isEqualTo("kv-server-calls");
  }

  /** The name of the thread a get reaches the store on, through a server on a loopback port. */
  private static String threadOfAGet(boolean onNetworkThreads) throws Exception {
    KvStore store = mock(KvStore.class);
    AtomicReference<String> thread = new AtomicReference<>();
    when(store.checkHealth()).thenReturn(CompletableFuture.completedFuture(null));
    when(store.get(any(), any()))
        .thenAnswer(
            call -> {
              thread.set(Thread.currentThread().getName());
              return CompletableFuture.completedFuture(Optional.empty());
            });
    try (LoopbackServer loopback =
        LoopbackServer.start(
            KvServer.builder(new HostPort("127.0.0.1", 0), store)
                .onNetworkThreads(onNetworkThreads))) {
      try {
        KVGrpc.newBlockingStub(loopback.channel).get(getRequest("k"));
      } catch (StatusRuntimeException e) {
        // Only the thread matters, whatever the answer.
      }
    }
    return thread.get();
  }
}
