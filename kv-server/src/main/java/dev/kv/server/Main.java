package dev.kv.server;

import dev.kv.core.KvStore;
import dev.kv.core.KvVersion;
import dev.kv.core.cache.ReadCache;
import dev.kv.core.config.Durations;
import dev.kv.core.config.HostPort;
import dev.kv.core.embedded.EmbeddedStore;
import dev.kv.core.etcd.EtcdEndpoints;
import dev.kv.core.etcd.EtcdStore;
import dev.kv.core.memory.MemoryStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;
import sun.misc.Signal;

/** The {@code kv-server} daemon. */
@Command(
    name = "kv-server",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
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

  private static final Logger logger = Logger.getLogger(Main.class.getName());

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

  @Option(
      names = "--store",
      paramLabel = "STORE",
      defaultValue = "${env:KV_STORE:-embedded}",
      description = {
        "Where the data is kept: ${COMPLETION-CANDIDATES}. embedded keeps it on this machine's "
            + "disk, in --data-dir, and survives restarts and crashes; memory keeps it in this "
            + "process only, and loses it when the server stops; etcd keeps it in an etcd "
            + "cluster (see --etcd-endpoints), which several kv-servers can share.",
        "Env: KV_STORE. Default: ${DEFAULT-VALUE}."
      })
  StoreKind store;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      defaultValue = "${env:KV_DATA_DIR:-kv-data}",
      description = {
        "With --store embedded: the directory that holds the data, made if missing. One "
            + "kv-server at a time may use it.",
        "Env: KV_DATA_DIR. Default: ${DEFAULT-VALUE}, in the working directory."
      })
  Path dataDir;

  @Option(
      names = "--etcd-endpoints",
      paramLabel = "URLS",
      defaultValue = "${env:KV_ETCD_ENDPOINTS}",
      description = {
        "With --store etcd: the client URLs of the etcd members, comma-separated, such as "
            + "http://127.0.0.1:2379,http://127.0.0.1:22379. Calls move to another member "
            + "when one goes away.",
        "Env: KV_ETCD_ENDPOINTS."
      })
  EtcdEndpoints etcdEndpoints;

  @Option(
      names = "--etcd-authority",
      paramLabel = "NAME",
      defaultValue = "${env:KV_ETCD_AUTHORITY}",
      description = {
        "With --store etcd: the :authority of every call to etcd, for a proxy that routes on "
            + "it (such as Envoy's etcd listener, authority etcd).",
        "Env: KV_ETCD_AUTHORITY."
      })
  String etcdAuthority;

  @Option(
      names = "--etcd-timeout",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_ETCD_TIMEOUT:-5s}",
      description = {
        "With --store etcd: how long each call to etcd may take, retries included.",
        "Env: KV_ETCD_TIMEOUT. Default: ${DEFAULT-VALUE}."
      })
  Duration etcdTimeout;

  @Option(
      names = "--read-cache",
      paramLabel = "KEYS",
      defaultValue = "${env:KV_READ_CACHE:-100000}",
      description = {
        "With --store etcd: how many keys to keep in memory for serializable reads, kept "
            + "current by a watch; 0 for none. A serializable read never returns a value older "
            + "than the last write acknowledged by this server.",
        "Env: KV_READ_CACHE. Default: ${DEFAULT-VALUE}."
      })
  int readCache;

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
  private volatile KvServer running;

  public static void main(String[] args) {
    Logging.configure();
    System.exit(commandLine().execute(args));
  }

  /** The configured command line, for {@link #main} and for tests. */
  static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(new Main());
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.registerConverter(HostPort.class, text -> parse(HostPort::parse, text));
    commandLine.registerConverter(Duration.class, text -> parse(Durations::parse, text));
    commandLine.registerConverter(EtcdEndpoints.class, text -> parse(EtcdEndpoints::parse, text));
    commandLine.setParameterExceptionHandler(
        (error, args) -> {
          PrintWriter err = error.getCommandLine().getErr();
          err.println("kv-server: " + error.getMessage());
          err.println("Try 'kv-server --help' for more information.");
          return EXIT_USAGE;
        });
    commandLine.setExecutionExceptionHandler(
        (error, cmd, parseResult) -> {
          cmd.getErr().println("kv-server: " + error.getMessage());
          return EXIT_FAILED;
        });
    return commandLine;
  }

  @Override
  public Integer call() throws Exception {
    for (String name : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(name), signal -> onStopSignal());
    }
    try (KvStore kvStore = openStore()) {
      // The embedded store reads its disk on the caller's thread: not a network thread.
      KvServer server = KvServer.listeningOn(listen, kvStore, store != StoreKind.embedded);
      running = server;
      try {
        server.start();
      } catch (IOException e) {
        throw new IOException("cannot listen on " + listen + ": " + rootMessage(e), e);
      }
      logger.info(
          () ->
              "kv-server "
                  + KvVersion.get()
                  + " listening on "
                  + server.address()
                  + " (store: "
                  + describeStore()
                  + ")");
      stopRequested.await();
      logger.info(() -> "stopping: calls in flight get up to " + Durations.format(shutdownGrace));
      server.stop(shutdownDrain, shutdownGrace);
    }
    logger.info("stopped");
    return 0;
  }

  /** The first signal stops gracefully; a second one cancels what is still running. */
  private void onStopSignal() {
    KvServer server = running;
    if (stopRequested.getCount() == 0 && server != null) {
      logger.warning("second stop signal: cancelling the calls still in flight");
      server.stopNow();
    }
    stopRequested.countDown();
  }

  private KvStore openStore() {
    return switch (store) {
      case embedded -> EmbeddedStore.open(dataDir);
      case memory -> new MemoryStore();
      case etcd -> {
        if (etcdEndpoints == null) {
          throw new CommandLine.ParameterException(
              spec.commandLine(),
              "--store etcd needs --etcd-endpoints (or KV_ETCD_ENDPOINTS), such as "
                  + "http://127.0.0.1:2379");
        }
        if (readCache < 0) {
          throw new CommandLine.ParameterException(
              spec.commandLine(),
              "--read-cache takes a number of keys, 0 or more, not " + readCache);
        }
        try {
          KvStore etcd =
              EtcdStore.builder()
                  .endpoints(etcdEndpoints)
                  .authority(etcdAuthority)
                  .timeout(etcdTimeout)
                  // The service's callbacks never block (see KvServer.listeningOn).
                  .directExecutor()
                  .build();
          yield readCache == 0 ? etcd : ReadCache.over(etcd, readCache);
        } catch (IllegalArgumentException e) {
          throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
      }
    };
  }

  private String describeStore() {
    return switch (store) {
      case embedded -> "embedded, in " + dataDir.toAbsolutePath().normalize();
      case memory -> "memory";
      case etcd ->
          "etcd at "
              + etcdEndpoints
              + (readCache > 0 ? ", caching up to " + readCache + " keys" : "");
    };
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

  /** Reads an option's text with {@code parser}, reporting its message as picocli's own. */
  private static <T> T parse(Function<String, T> parser, String text) {
    try {
      return parser.apply(text);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
