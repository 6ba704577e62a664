package dev.kv.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * What kv-server measures of itself besides its calls ({@link CallMetrics}): calls refused by a
 * limit, watches, and the JVM and process. Without a registry it measures nothing, at no cost.
 */
final class ServerMetrics {

  /** Measures nothing. */
  static final ServerMetrics NONE = new ServerMetrics(null);

  /** The limits that refuse calls, as the {@code limit} tag names them: each --max-... option. */
  enum Limit {
    CALLS,
    WATCHES,
    SNAPSHOTS,
    UNAUTHENTICATED_CALLS,
    BYTES_IN_PROGRESS,
    CONNECTIONS;

    final String tag = name().toLowerCase(Locale.ROOT);
  }

  private final MeterRegistry registry;

  /** By limit; null without a registry, as are the other meters. */
  private final Counter[] refused;

  private final Counter eventsSent;
  private final Counter endedLagging;

  private ServerMetrics(MeterRegistry registry) {
    this.registry = registry;
    if (registry == null) {
      refused = null;
      eventsSent = null;
      endedLagging = null;
      return;
    }
    refused = new Counter[Limit.values().length];
    for (Limit limit : Limit.values()) {
      // Registered up front, so that a rate of refusals is 0, not missing, before the first one.
      refused[limit.ordinal()] =
          Counter.builder("kv.calls.refused")
              .description("Calls, watches and connections refused for want of room under a limit")
              .tag("limit", limit.tag)
              .register(registry);
    }
    eventsSent =
        Counter.builder("kv.watch.events.sent")
            .description("Watch events handed to the network, for every watch they go to")
            .register(registry);
    endedLagging =
        Counter.builder("kv.watches.ended.lagging")
            .description("Watches ended because their client read them too slowly")
            .register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  /** Measures into {@code registry}; none without one. */
  static ServerMetrics of(MeterRegistry registry) {
    return registry == null ? NONE : new ServerMetrics(registry);
  }

  /** The registry, or null without one. */
  MeterRegistry registry() {
    return registry;
  }

  void refused(Limit limit) {
    if (refused != null) {
      refused[limit.ordinal()].increment();
    }
  }

  void eventSent() {
    if (eventsSent != null) {
      eventsSent.increment();
    }
  }

  void watchEndedLagging() {
    if (endedLagging != null) {
      endedLagging.increment();
    }
  }

  /** Reports {@code open} as the watches open, as long as {@code owner} is in use. */
  <T> void watchesOpen(T owner, ToDoubleFunction<T> open) {
    if (registry != null) {
      Gauge.builder("kv.watches.open", owner, open)
          .description("Watches open on this server")
          .register(registry);
    }
  }
}
