package dev.kv.server;

import dev.kv.core.KvStore;
import dev.kv.core.KvVersion;
import dev.kv.core.config.Durations;
import dev.kv.core.config.HostPort;
import dev.kv.launch.CommandLines;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

/** The {@code kv-server} daemon. */
@Command(
    name = "kv-server",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    subcommands = {SnapshotCommand.class, RestoreCommand.class},
    description = {
      "Serves the kv.KV gRPC API over a store (by default, on this machine's disk), with gRPC health checking "
          + "(grpc.health.v1) and server reflection.",
      "",
      "Every option can also be set by the environment variable named in its description; "
          + "an option on the command line wins.",
      "Stops gracefully on SIGTERM or SIGINT: health checks answer NOT_SERVING, calls in flight "
          + "finish, then the process exits 0.",
      ""
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:stopped cleanly after SIGTERM or SIGINT",
      "1:failed to start or to stop (for example, the address is in use)",
      "2:invalid option"
    })
public final class Main implements Callable<Integer> {

  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;

  private static final Logger logger = LoggerFactory.getLogger(Main.class);

  @Option(
      names = "--listen",
      paramLabel = "HOST:PORT",
      defaultValue = "${env:KV_LISTEN:-127.0.0.1:9986}",
      description = {
        "Address to serve on; port 0 picks a free one. Use 0.0.0.0 or [::] to serve other "
            + "machines too.",
        "Env: KV_LISTEN. Default: ${DEFAULT-VALUE}."
      })
  HostPort listen;

  @Mixin StoreOptions store;

  @Mixin SecurityOptions security;

  @Mixin LimitsOptions limits;

  @Mixin LogOptions logs;

  @Option(
      names = "--admin-listen",
      paramLabel = "HOST:PORT",
      defaultValue = "${env:KV_ADMIN_LISTEN}",
      description = {
        "Address of the admin HTTP listener, such as 127.0.0.1:9987: /metrics for Prometheus "
            + "(or OpenMetrics), /healthz (200 while the process answers) and /readyz (200 while "
            + "the store answers, 503 otherwise). Off unless given; port 0 picks a free one.",
        "Env: KV_ADMIN_LISTEN."
      })
  HostPort adminListen;

  @Option(
      names = "--shutdown-grace",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_SHUTDOWN_GRACE:-10s}",
      description = {
        "How long calls in flight may take to finish once a stop is asked for, such as 500ms, "
            + "10s or 1m.",
        "Env: KV_SHUTDOWN_GRACE. Default: ${DEFAULT-VALUE}."
      })
  Duration shutdownGrace;

  @Option(
      names = "--shutdown-drain",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_SHUTDOWN_DRAIN:-0s}",
      description = {
        "How long to keep serving once health checks answer NOT_SERVING, before new calls are "
            + "refused: set it to the health-check interval of the load balancer in front.",
        "Env: KV_SHUTDOWN_DRAIN. Default: ${DEFAULT-VALUE}."
      })
  Duration shutdownDrain;

  @Spec CommandSpec spec;

  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final boolean ownsLogging;
  private volatile KvServer running;

  /** A command that leaves the process's logging as it is, as tests want. */
  public Main() {
    this(false);
  }

  /** {@code ownsLogging}: whether to set up the process's logging, which tests keep as theirs. */
  private Main(boolean ownsLogging) {
    this.ownsLogging = ownsLogging;
  }

  public static void main(String[] args) {
    System.exit(commandLine(new Main(true)).execute(args));
  }

  /** The configured command line, for {@link #main} and for tests. */
  static CommandLine commandLine() {
    return commandLine(new Main());
  }

  /** The configured command line of {@code main}. */
  static CommandLine commandLine(Main main) {
    return CommandLines.create(
        main,
        new CommandLines.Failures() {
          @Override
          public int usage(CommandLine command, String message) {
            command.getErr().println("kv-server: " + message + " (see 'kv-server --help')");
            return EXIT_USAGE;
          }

          @Override
          public int failed(CommandLine command, Exception error) {
            command.getErr().println("kv-server: " + error.getMessage());
            return EXIT_FAILED;
          }
        });
  }

  @Override
  public Integer call() throws Exception {
    if (ownsLogging) {
      logs.apply();
    }
    for (String name : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(name), signal -> onStopSignal());
    }
    // Every option is checked before the store opens: a mistake costs no start-up.
    Limits limits = limits();
    ServerTls serverTls = CommandLines.usage(spec, security::serverTls);
    BearerTokens tokens = CommandLines.usage(spec, security::tokens);
    // Only with an admin listener to serve them: without one, nothing is measured. Made before
    // the store opens, for the store to measure into too.
    PrometheusMeterRegistry metrics =
        adminListen == null ? null : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    if (metrics != null) {
      // Each timer's max over one window rather than a ring of three: one update per call
      // instead of three, on every call's path.
      metrics
          .config()
          .meterFilter(
              new MeterFilter() {
                @Override
                public DistributionStatisticConfig configure(
                    Meter.Id id, DistributionStatisticConfig config) {
                  return DistributionStatisticConfig.builder()
                      .bufferLength(1)
                      .build()
                      .merge(config);
                }
              });
    }
    try (KvStore kvStore = store.open(metrics)) {
      KvServer server =
          KvServer.builder(listen, kvStore)
              .tls(serverTls)
              .bearerTokens(tokens)
              .limits(limits)
              .accessLog(logs.accessLog)
              .metrics(metrics)
              .build();
      running = server;
      try {
        server.start();
      } catch (IOException e) {
        throw new IOException("cannot listen on " + listen + ": " + rootMessage(e), e);
      }
      AdminListener admin;
      try {
        admin = metrics == null ? null : AdminListener.start(adminListen, metrics, server::ready);
      } catch (IOException e) {
        server.stop(Duration.ZERO, Duration.ZERO);
        throw new IOException(
            "cannot listen on " + adminListen + " (--admin-listen): " + rootMessage(e), e);
      }
      LoggingEventBuilder started =
          logger
              .atInfo()
              .setMessage("kv-server {} listening on {}")
              .addArgument(KvVersion.get())
              .addArgument(server.address());
      store.describe(started);
      started
          .addKeyValue("tls", serverTls == null ? "off" : serverTls.mutual() ? "mutual" : "on")
          .addKeyValue("auth", tokens == null ? "none" : "token");
      if (admin != null) {
        started.addKeyValue("admin", "http://" + admin.address());
      }
      started.log();
      if (serverTls == null && !server.address().isLoopback()) {
        logger.warn(
            "serving other machines over plaintext: anyone on the network can read and change "
                + (tokens == null ? "the data" : "the data and the tokens")
                + " on the way; see --tls-cert");
      }
      stopRequested.await();
      logger.info("stopping: calls in flight get up to {}", Durations.format(shutdownGrace));
      server.stop(shutdownDrain, shutdownGrace);
      if (admin != null) {
        admin.close();
      }
    }
    logger.info("stopped");
    return 0;
  }

  /** The first signal stops gracefully; a second one cancels what is still running. */
  private void onStopSignal() {
    KvServer server = running;
    if (stopRequested.getCount() == 0 && server != null) {
      logger.warn("second stop signal: cancelling the calls still in flight");
      server.stopNow();
    }
    stopRequested.countDown();
  }

  /** The limits the options give. */
  Limits limits() {
    return CommandLines.usage(spec, limits::limits);
  }

  private static String rootMessage(Throwable error) {
    Throwable cause = error;
    while (cause.getCause() != null) {
      cause = cause.getCause();
    }
    return String.valueOf(cause.getMessage()).toLowerCase(java.util.Locale.ROOT);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"kv-server " + KvVersion.get()};
    }
  }
}
