package dev.kv.core.etcd;

import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientStreamTracer;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * What the etcd store measures beyond its operations: every call to etcd by method and status, the
 * attempts gRPC sends again, new connections to a member already connected to, which members carry
 * calls, the sizes of read and write batches, and the renewals of the user's token. The channel's
 * {@link #interceptor} sees the calls and their attempts.
 */
final class EtcdMetrics {

  /** No registry: measures nothing. */
  static final EtcdMetrics NONE = new EtcdMetrics();

  /** How recently a member carried a call to count as in use. */
  private static final Duration IN_USE = Duration.ofSeconds(10);

  private static final Status.Code[] CODES = Status.Code.values();

  private final MeterRegistry registry;
  private final Counter retries;
  private final Counter reconnects;
  private final Counter tokenRenewals;
  private final DistributionSummary readBatches;
  private final DistributionSummary writeBatches;

  /** Per method: a counter per status code, made on first use. */
  private final Map<String, Counter[]> calls = new ConcurrentHashMap<>();

  /** The configured members, by the address the channel connects to. */
  private final Map<SocketAddress, Member> members;

  private EtcdMetrics() {
    this.registry = null;
    this.retries = null;
    this.reconnects = null;
    this.tokenRenewals = null;
    this.readBatches = null;
    this.writeBatches = null;
    this.members = Map.of();
  }

  private EtcdMetrics(MeterRegistry registry, EtcdEndpoints endpoints) {
    this.registry = registry;
    this.retries =
        Counter.builder("kv.etcd.retries")
            .description("Attempts of a call to etcd sent again (reads on UNAVAILABLE)")
            .register(registry);
    this.reconnects =
        Counter.builder("kv.etcd.reconnects")
            .description("New connections to an etcd member after its first")
            .register(registry);
    this.tokenRenewals =
        Counter.builder("kv.etcd.token.renewals")
            .description("Times the user's token expired and was asked for again")
            .register(registry);
    this.readBatches = batchSizes("kv.etcd.read.batch.size", "Linearizable reads per call");
    this.writeBatches = batchSizes("kv.etcd.write.batch.size", "Sets per call");
    String scheme = endpoints.https() ? "https://" : "http://";
    this.members =
        endpoints.members().stream()
            .collect(
                Collectors.toMap(
                    member -> new InetSocketAddress(member.host(), member.port()),
                    member -> new Member(registry, scheme + member),
                    (first, same) -> first));
  }

  /** Metrics in {@code registry} for a store of {@code endpoints}; none when it is null. */
  static EtcdMetrics of(MeterRegistry registry, EtcdEndpoints endpoints) {
    return registry == null ? NONE : new EtcdMetrics(registry, endpoints);
  }

  private DistributionSummary batchSizes(String name, String description) {
    return DistributionSummary.builder(name)
        .description(description)
        .publishPercentileHistogram()
        .register(registry);
  }

  /** What a channel intercepts its calls with; null when nothing is measured. */
  ClientInterceptor interceptor() {
    return registry == null ? null : new Calls();
  }

  void readBatch(int reads) {
    if (readBatches != null) {
      readBatches.record(reads);
    }
  }

  void writeBatch(int writes) {
    if (writeBatches != null) {
      writeBatches.record(writes);
    }
  }

  void tokenRenewed() {
    if (tokenRenewals != null) {
      tokenRenewals.increment();
    }
  }

  /** The member gauges leave the registry with the store. */
  void close() {
    if (registry == null) {
      return;
    }
    for (Member member : members.values()) {
      registry.remove(member.gauge);
    }
  }

  private void called(String method, Status.Code code) {
    Counter[] byCode = calls.computeIfAbsent(method, unused -> new Counter[CODES.length]);
    Counter counter = byCode[code.ordinal()];
    if (counter == null) {
      // The registry gives the same counter to a racing thread.
      counter =
          Counter.builder("kv.etcd.calls")
              .description("Calls to etcd, by method and gRPC status")
              .tag("method", method)
              .tag("code", code.name())
              .register(registry);
      byCode[code.ordinal()] = counter;
    }
    counter.increment();
  }

  /** An attempt of a call went out on the connection that {@code transport} describes. */
  private void sentOn(Attributes transport) {
    Member member = members.get(transport.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
    if (member == null) {
      return;
    }
    member.lastUsed = System.nanoTime();
    Attributes previous = member.connection.get();
    if (previous != transport && member.connection.compareAndSet(previous, transport)) {
      if (previous != null) {
        reconnects.increment();
      }
    }
  }

  /** A configured member: its gauge, when it last carried a call, and on which connection. */
  private static final class Member {
    final Gauge gauge;
    volatile long lastUsed;

    /** A connection's attributes are its own: a new object is a new connection. */
    final AtomicReference<Attributes> connection = new AtomicReference<>();

    Member(MeterRegistry registry, String endpoint) {
      this.gauge =
          Gauge.builder("kv.etcd.member.in.use", this, Member::inUse)
              .description("1 for a member that carried a call in the last 10 seconds, else 0")
              .tag("endpoint", endpoint)
              .strongReference(true)
              .register(registry);
    }

    double inUse() {
      return connection.get() != null && System.nanoTime() - lastUsed < IN_USE.toNanos() ? 1 : 0;
    }
  }

  /** Counts each call when it closes, and each attempt as it is sent. */
  private final class Calls extends ClientStreamTracer.Factory implements ClientInterceptor {
    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
      String name = method.getFullMethodName();
      return new SimpleForwardingClientCall<>(
          next.newCall(method, options.withStreamTracerFactory(this))) {
        @Override
        public void start(Listener<RespT> listener, Metadata headers) {
          super.start(
              new SimpleForwardingClientCallListener<>(listener) {
                @Override
                public void onClose(Status status, Metadata trailers) {
                  called(name, status.getCode());
                  super.onClose(status, trailers);
                }
              },
              headers);
        }
      };
    }

    @Override
    public ClientStreamTracer newClientStreamTracer(
        ClientStreamTracer.StreamInfo info, Metadata headers) {
      if (info.getPreviousAttempts() > 0) {
        retries.increment();
      }
      return new ClientStreamTracer() {
        @Override
        public void streamCreated(Attributes transport, Metadata headers) {
          sentOn(transport);
        }
      };
    }
  }
}
