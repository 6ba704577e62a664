package dev.kv.server;

import dev.kv.core.KvStore;
import dev.kv.core.grpc.GrpcErrors;
import io.grpc.BindableService;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * The server's health, following its store's: {@code SERVING} while the store answers, {@code
 * NOT_SERVING} otherwise, for {@code ""} and {@code kv.KV}. Changes are logged, the first check's
 * answer always, so that a store that never answers says why from the start.
 */
final class StoreHealth {

  private static final Logger logger = Logger.getLogger(KvServer.class.getName());

  private final KvStore store;
  private final HealthStatusManager health = new HealthStatusManager();
  private final AtomicBoolean checking = new AtomicBoolean();
  private ServingStatus reported = ServingStatus.NOT_SERVING;
  private boolean checked;
  private boolean stopping;

  /** What health checks answer, for those who ask over HTTP ({@link AdminListener}). */
  private volatile boolean serving;

  StoreHealth(KvStore store) {
    this.store = store;
    setServing(ServingStatus.NOT_SERVING);
  }

  /** The standard health service, {@code grpc.health.v1.Health}. */
  BindableService service() {
    return health.getHealthService();
  }

  /** One health check of the store; a check still waiting for its answer is not repeated. */
  void check() {
    if (!checking.compareAndSet(false, true)) {
      return;
    }
    CompletableFuture<Void> check;
    try {
      check = store.checkHealth();
    } catch (RuntimeException e) {
      check = CompletableFuture.failedFuture(e);
    }
    check.whenComplete(
        (ok, error) -> {
          report(error == null ? ServingStatus.SERVING : ServingStatus.NOT_SERVING, error);
          // Only now, so that no later check reports before this one.
          checking.set(false);
        });
  }

  /** Stops following the store: checks that answer from now on change nothing. */
  synchronized void stopFollowing() {
    stopping = true;
  }

  /** Answers {@code NOT_SERVING} from now on, for good: the server is stopping. */
  void stopServing() {
    serving = false;
    health.enterTerminalState();
  }

  /** Whether health checks answer {@code SERVING}. */
  boolean serving() {
    return serving;
  }

  private synchronized void report(ServingStatus status, Throwable error) {
    if (stopping || (status == reported && checked)) {
      return;
    }
    checked = true;
    reported = status;
    setServing(status);
    if (status == ServingStatus.SERVING) {
      logger.info("the store answers: health is SERVING");
    } else {
      logger.warning(
          "the store does not answer ("
              + GrpcErrors.unwrap(error).getMessage()
              + "): health is NOT_SERVING");
    }
  }

  private void setServing(ServingStatus status) {
    serving = status == ServingStatus.SERVING;
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
    health.setStatus(KvServer.SERVICE_NAME, status);
  }
}
