package dev.kv.server;

import io.grpc.Metadata;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Times every call, by method and status code, as {@code kv.grpc.server.calls}: a timer with a
 * histogram, which Prometheus reads as {@code kv_grpc_server_calls_seconds_bucket}, {@code _count}
 * and {@code _sum}.
 *
 * <p>A stream tracer rather than an interceptor, since it sees every call end, those the transport
 * ends too (a request refused for its size, a call cancelled). The method tag takes only the names
 * of the methods served, so that a client cannot make up tag values: any other is {@code
 * "unknown"}. The timers are found without allocating: a map built once, then an array by code.
 */
final class CallMetrics extends ServerStreamTracer.Factory {

  static final String UNKNOWN_METHOD = "unknown";

  private static final Status.Code[] CODES = Status.Code.values();

  private final Map<String, MethodTimers> methods = new HashMap<>();
  private final MethodTimers unknown;

  CallMetrics(MeterRegistry registry, List<ServerServiceDefinition> services) {
    for (ServerServiceDefinition service : services) {
      for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
        String name = method.getMethodDescriptor().getFullMethodName();
        methods.put(name, new MethodTimers(registry, name));
      }
    }
    this.unknown = new MethodTimers(registry, UNKNOWN_METHOD);
  }

  @Override
  public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
    return new Call(methods.getOrDefault(fullMethodName, unknown), System.nanoTime());
  }

  /** One method's timers, one per status code, registered on first use. */
  private static final class MethodTimers {
    private final MeterRegistry registry;
    private final String method;
    private final AtomicReferenceArray<Timer> byCode = new AtomicReferenceArray<>(CODES.length);

    MethodTimers(MeterRegistry registry, String method) {
      this.registry = registry;
      this.method = method;
    }

    Timer of(Status.Code code) {
      Timer timer = byCode.get(code.ordinal());
      if (timer == null) {
        // Registering twice gives the same timer: a race costs nothing.
        timer =
            Timer.builder("kv.grpc.server.calls")
                .description("gRPC calls served, by method and status code")
                .tag("method", method)
                .tag("code", code.name())
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(100_000))
                .maximumExpectedValue(Duration.ofMinutes(1))
                .register(registry);
        byCode.set(code.ordinal(), timer);
      }
      return timer;
    }
  }

  /** One call, timed from its first header to its end. */
  private static final class Call extends ServerStreamTracer {
    private final MethodTimers timers;
    private final long start;

    Call(MethodTimers timers, long start) {
      this.timers = timers;
      this.start = start;
    }

    @Override
    public void streamClosed(Status status) {
      timers.of(status.getCode()).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }
  }
}
