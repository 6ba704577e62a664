package dev.kv.server;

import dev.kv.core.KvStore;
import dev.kv.core.KvVersion;
import dev.kv.core.cache.ReadCache;
import dev.kv.core.config.Durations;
import dev.kv.core.config.HostPort;
import dev.kv.core.config.Secrets;
import dev.kv.core.config.Sizes;
import dev.kv.core.config.UnknownArguments;
import dev.kv.core.embedded.EmbeddedStore;
import dev.kv.core.etcd.EtcdEndpoints;
import dev.kv.core.etcd.EtcdStore;
import dev.kv.core.memory.MemoryStore;
import dev.kv.core.tls.ClientTls;
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
      names = "--salvage",
      description = {
        "With --store embedded: open a data directory whose write-ahead log is damaged with what "
            + "can be read of it, rather than refusing it; the writes the damage hides are lost. "
            + "The log files as they were are kept in the directory's salvaged/, and the log says "
            + "what was kept. For one start after a refusal: restart without it. No environment "
            + "variable, so that it is never left on."
      })
  boolean salvage;

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
      names = "--etcd-cacert",
      paramLabel = "FILE",
      defaultValue = "${env:KV_ETCD_CACERT}",
      description = {
        "With https:// etcd endpoints: the CA certificate (PEM) that signs the members' "
            + "certificates. Default: the system's trusted CAs.",
        "Env: KV_ETCD_CACERT."
      })
  Path etcdCaCert;

  @Option(
      names = "--etcd-cert",
      paramLabel = "FILE",
      defaultValue = "${env:KV_ETCD_CERT}",
      description = {
        "With https:// etcd endpoints: this server's client certificate (PEM), for members that "
            + "ask for one (--client-cert-auth). Goes with --etcd-key.",
        "Env: KV_ETCD_CERT."
      })
  Path etcdCert;

  @Option(
      names = "--etcd-key",
      paramLabel = "FILE",
      defaultValue = "${env:KV_ETCD_KEY}",
      description = {
        "The private key of --etcd-cert: unencrypted PKCS #8 PEM (BEGIN PRIVATE KEY).",
        "Env: KV_ETCD_KEY."
      })
  Path etcdKey;

  @Option(
      names = "--etcd-user",
      paramLabel = "NAME",
      defaultValue = "${env:KV_ETCD_USER}",
      description = {
        "With --store etcd: the etcd user to sign in as, when etcd has authentication enabled. "
            + "The password comes from --etcd-password-file or KV_ETCD_PASSWORD, never from the "
            + "command line. Expired tokens are renewed by themselves.",
        "Env: KV_ETCD_USER."
      })
  String etcdUser;

  @Option(
      names = "--etcd-password-file",
      paramLabel = "FILE",
      defaultValue = "${env:KV_ETCD_PASSWORD_FILE}",
      description = {
        "The file that holds the password of --etcd-user (a final line break is ignored).",
        "Env: KV_ETCD_PASSWORD_FILE, or the password itself in KV_ETCD_PASSWORD."
      })
  Path etcdPasswordFile;

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
      names = "--tls-cert",
      paramLabel = "FILE",
      defaultValue = "${env:KV_TLS_CERT}",
      description = {
        "Serve TLS only, with this certificate (PEM, chain first to last). Goes with "
            + "--tls-key. Renewed files are read again without a restart.",
        "Env: KV_TLS_CERT."
      })
  Path tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      defaultValue = "${env:KV_TLS_KEY}",
      description = {
        "The private key of --tls-cert: unencrypted PKCS #8 PEM (BEGIN PRIVATE KEY).",
        "Env: KV_TLS_KEY."
      })
  Path tlsKey;

  @Option(
      names = "--tls-client-ca",
      paramLabel = "FILE",
      defaultValue = "${env:KV_TLS_CLIENT_CA}",
      description = {
        "Mutual TLS: serve only clients with a certificate signed by this CA (PEM).",
        "Env: KV_TLS_CLIENT_CA."
      })
  Path tlsClientCa;

  @Option(
      names = "--auth-token-file",
      paramLabel = "FILE",
      defaultValue = "${env:KV_AUTH_TOKEN_FILE}",
      description = {
        "Serve kv.KV calls only with 'authorization: Bearer TOKEN' for a token in this file, one "
            + "per line; others get UNAUTHENTICATED. Health checks and reflection stay open. The "
            + "file is read again when it changes.",
        "Env: KV_AUTH_TOKEN_FILE."
      })
  Path authTokenFile;

  @Option(
      names = "--max-key-size",
      paramLabel = "SIZE",
      defaultValue = "${env:KV_MAX_KEY_SIZE:-4KiB}",
      description = {
        "The largest key, in UTF-8 bytes; larger ones get INVALID_ARGUMENT.",
        "Env: KV_MAX_KEY_SIZE. Default: ${DEFAULT-VALUE}."
      })
  String maxKeySize;

  @Option(
      names = "--max-value-size",
      paramLabel = "SIZE",
      defaultValue = "${env:KV_MAX_VALUE_SIZE:-1520KiB}",
      description = {
        "The largest value, in UTF-8 bytes; larger ones get INVALID_ARGUMENT. With the largest "
            + "key, it fits in etcd's default request limit of 1.5MiB.",
        "Env: KV_MAX_VALUE_SIZE. Default: ${DEFAULT-VALUE}."
      })
  String maxValueSize;

  @Option(
      names = "--max-message-size",
      paramLabel = "SIZE",
      defaultValue = "${env:KV_MAX_MESSAGE_SIZE:-2MiB}",
      description = {
        "The largest request message; larger ones get RESOURCE_EXHAUSTED.",
        "Env: KV_MAX_MESSAGE_SIZE. Default: ${DEFAULT-VALUE}."
      })
  String maxMessageSize;

  @Option(
      names = "--max-calls",
      paramLabel = "N",
      defaultValue = "${env:KV_MAX_CALLS:-10000}",
      description = {
        "Calls in progress at once, watches aside; more get RESOURCE_EXHAUSTED.",
        "Env: KV_MAX_CALLS. Default: ${DEFAULT-VALUE}."
      })
  int maxCalls;

  @Option(
      names = "--max-watches",
      paramLabel = "N",
      defaultValue = "${env:KV_MAX_WATCHES:-10000}",
      description = {
        "Watches open at once; more get RESOURCE_EXHAUSTED.",
        "Env: KV_MAX_WATCHES. Default: ${DEFAULT-VALUE}."
      })
  int maxWatches;

  @Option(
      names = "--max-connections",
      paramLabel = "N",
      defaultValue = "${env:KV_MAX_CONNECTIONS:-2048}",
      description = {
        "Connections open at once; more are closed as soon as they are accepted. Each costs "
            + "memory, some KiB, even when it makes no call.",
        "Env: KV_MAX_CONNECTIONS. Default: ${DEFAULT-VALUE}."
      })
  int maxConnections;

  @Option(
      names = "--first-request-timeout",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_FIRST_REQUEST_TIMEOUT:-10s}",
      description = {
        "How long a new connection may stay open without making a call, TLS handshake included.",
        "Env: KV_FIRST_REQUEST_TIMEOUT. Default: ${DEFAULT-VALUE}."
      })
  Duration firstRequestTimeout;

  @Option(
      names = "--max-streams-per-connection",
      paramLabel = "N",
      defaultValue = "${env:KV_MAX_STREAMS_PER_CONNECTION:-1000}",
      description = {
        "Calls open at once on one connection (HTTP/2's limit); a client's next ones wait.",
        "Env: KV_MAX_STREAMS_PER_CONNECTION. Default: ${DEFAULT-VALUE}."
      })
  int maxStreamsPerConnection;

  @Option(
      names = "--keepalive-min-time",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_KEEPALIVE_MIN_TIME:-10s}",
      description = {
        "The shortest interval between a client's keepalive pings; a client that pings more "
            + "often is disconnected.",
        "Env: KV_KEEPALIVE_MIN_TIME. Default: ${DEFAULT-VALUE}."
      })
  Duration keepAliveMinTime;

  @Option(
      names = "--max-connection-idle",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_MAX_CONNECTION_IDLE:-5m}",
      description = {
        "How long a connection without calls stays open; 0s for ever.",
        "Env: KV_MAX_CONNECTION_IDLE. Default: ${DEFAULT-VALUE}."
      })
  Duration maxConnectionIdle;

  @Option(
      names = "--max-connection-age",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_MAX_CONNECTION_AGE:-1h}",
      description = {
        "How long a connection takes new calls; its calls in progress, watches included, go on, "
            + "and the client opens a new one, which spreads clients over new servers. 0s for "
            + "ever.",
        "Env: KV_MAX_CONNECTION_AGE. Default: ${DEFAULT-VALUE}."
      })
  Duration maxConnectionAge;

  @Option(
      names = "--default-deadline",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_DEFAULT_DEADLINE:-30s}",
      description = {
        "The deadline of a call that sets none (watches have none): past it, the call gets "
            + "DEADLINE_EXCEEDED.",
        "Env: KV_DEFAULT_DEADLINE. Default: ${DEFAULT-VALUE}."
      })
  Duration defaultDeadline;

  // Fair limits: what one client may hold of the server, and for how long.

  @Option(
      names = "--max-bytes-in-progress",
      paramLabel = "SIZE",
      defaultValue = "${env:KV_MAX_BYTES_IN_PROGRESS:-8MiB}",
      description = {
        "Bytes of requests in progress at once, counted as they arrive and, for compressed "
            + "ones, as they inflate; a request that finds no room gets RESOURCE_EXHAUSTED. The "
            + "network buffers of unfinished requests take several times what they hold: keep "
            + "it to an eighth of the direct memory (-XX:MaxDirectMemorySize, 64m in "
            + "bin/kv-server).",
        "Env: KV_MAX_BYTES_IN_PROGRESS. Default: ${DEFAULT-VALUE}."
      })
  String maxBytesInProgress;

  @Option(
      names = "--max-unauthenticated-calls",
      paramLabel = "N",
      defaultValue = "${env:KV_MAX_UNAUTHENTICATED_CALLS:-100}",
      description = {
        "Calls and watches in progress at once to health checks and reflection, which answer "
            + "without a token: a budget of their own, apart from --max-calls and --max-watches; "
            + "more get RESOURCE_EXHAUSTED.",
        "Env: KV_MAX_UNAUTHENTICATED_CALLS. Default: ${DEFAULT-VALUE}."
      })
  int maxUnauthenticatedCalls;

  @Option(
      names = "--max-call-duration",
      paramLabel = "DURATION",
      defaultValue = "${env:KV_MAX_CALL_DURATION:-1m}",
      description = {
        "The longest any call may run, whatever deadline its client set (watches aside): past "
            + "it, the call gets DEADLINE_EXCEEDED.",
        "Env: KV_MAX_CALL_DURATION. Default: ${DEFAULT-VALUE}."
      })
  Duration maxCallDuration;

  @Option(
      names = "--max-share-per-address",
      paramLabel = "PERCENT",
      defaultValue = "${env:KV_MAX_SHARE_PER_ADDRESS:-50}",
      description = {
        "The most of each of --max-calls, --max-unauthenticated-calls and --max-bytes-in-progress "
            + "that the connections from one client address may hold together, in percent; "
            + "past it, their calls get RESOURCE_EXHAUSTED. Behind a proxy, every call comes "
            + "from the proxy's address: set 100 there, and let the proxy limit each client.",
        "Env: KV_MAX_SHARE_PER_ADDRESS. Default: ${DEFAULT-VALUE}."
      })
  int maxSharePerAddress;

  @Option(
      names = "--max-share-per-connection",
      paramLabel = "PERCENT",
      defaultValue = "${env:KV_MAX_SHARE_PER_CONNECTION:-25}",
      description = {
        "The most of each that one connection may hold, in percent, so that other connections "
            + "from the same address are still served.",
        "Env: KV_MAX_SHARE_PER_CONNECTION. Default: ${DEFAULT-VALUE}."
      })
  int maxSharePerConnection;

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
    return commandLine(new Main());
  }

  /** The configured command line of {@code main}. */
  static CommandLine commandLine(Main main) {
    CommandLine commandLine = new CommandLine(main);
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.registerConverter(HostPort.class, text -> parse(HostPort::parse, text));
    commandLine.registerConverter(Duration.class, text -> parse(Durations::parse, text));
    commandLine.registerConverter(EtcdEndpoints.class, text -> parse(EtcdEndpoints::parse, text));
    commandLine.setParameterExceptionHandler(
        (error, args) -> {
          PrintWriter err = error.getCommandLine().getErr();
          String message =
              error instanceof CommandLine.UnmatchedArgumentException unmatched
                  ? UnknownArguments.describe(unmatched.getUnmatched())
                  : error.getMessage();
          err.println("kv-server: " + message + " (see 'kv-server --help')");
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
    // Every option is checked before the store opens: a mistake costs no start-up.
    Limits limits = limits();
    ServerTls serverTls = serverTls();
    BearerTokens tokens =
        usage(() -> authTokenFile == null ? null : new BearerTokens(authTokenFile));
    try (KvStore kvStore = openStore()) {
      // The embedded store reads its disk on the caller's thread: not a network thread.
      KvServer server =
          KvServer.builder(listen, kvStore)
              .onNetworkThreads(store != StoreKind.embedded)
              .tls(serverTls)
              .bearerTokens(tokens)
              .limits(limits)
              .build();
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
                  + (serverTls == null ? "" : serverTls.mutual() ? " (mutual TLS)" : " (TLS)")
                  + (tokens == null ? "" : " (token authentication)")
                  + " (store: "
                  + describeStore()
                  + ")");
      if (serverTls == null && !server.address().isLoopback()) {
        logger.warning(
            "serving other machines over plaintext: anyone on the network can read and change "
                + (tokens == null ? "the data" : "the data and the tokens")
                + " on the way; see --tls-cert");
      }
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
    if (salvage && store != StoreKind.embedded) {
      throw usageError(
          "--salvage is for --store embedded only: a "
              + store
              + " store has no log of its own to salvage");
    }
    return switch (store) {
      case embedded -> EmbeddedStore.builder().dataDir(dataDir).salvage(salvage).build();
      case memory -> new MemoryStore();
      case etcd -> {
        if (etcdEndpoints == null) {
          throw usageError(
              "--store etcd needs --etcd-endpoints (or KV_ETCD_ENDPOINTS), such as "
                  + "http://127.0.0.1:2379");
        }
        if (readCache < 0) {
          throw usageError("--read-cache takes a number of keys, 0 or more, not " + readCache);
        }
        KvStore etcd =
            usage(
                () -> {
                  EtcdStore.Builder builder =
                      EtcdStore.builder()
                          .endpoints(etcdEndpoints)
                          .authority(etcdAuthority)
                          .timeout(etcdTimeout)
                          // The service's callbacks never block (see KvServer.Builder).
                          .directExecutor();
                  if (etcdCaCert != null || etcdCert != null || etcdKey != null) {
                    builder.tls(new ClientTls(etcdCaCert, etcdCert, etcdKey));
                  }
                  String password = Secrets.etcdPassword(etcdUser, etcdPasswordFile);
                  if (password != null) {
                    builder.user(etcdUser, password);
                  }
                  return builder.build();
                });
        yield readCache == 0 ? etcd : ReadCache.over(etcd, readCache);
      }
    };
  }

  private ServerTls serverTls() {
    if (tlsCert == null && tlsKey == null) {
      if (tlsClientCa != null) {
        throw usageError("--tls-client-ca needs --tls-cert and --tls-key");
      }
      return null;
    }
    if (tlsCert == null || tlsKey == null) {
      throw usageError("--tls-cert and --tls-key go together: give both");
    }
    return usage(() -> new ServerTls(tlsCert, tlsKey, tlsClientCa));
  }

  /** The limits the options give. */
  Limits limits() {
    return usage(
        () ->
            new Limits(
                size("--max-key-size", maxKeySize),
                size("--max-value-size", maxValueSize),
                size("--max-message-size", maxMessageSize),
                maxStreamsPerConnection,
                maxCalls,
                maxWatches,
                keepAliveMinTime,
                maxConnectionIdle,
                maxConnectionAge,
                defaultDeadline,
                maxConnections,
                firstRequestTimeout,
                size("--max-bytes-in-progress", maxBytesInProgress),
                maxUnauthenticatedCalls,
                maxCallDuration,
                maxSharePerAddress,
                maxSharePerConnection));
  }

  private static int size(String option, String text) {
    try {
      return Sizes.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + ": " + e.getMessage());
    }
  }

  /** Runs {@code step}, reporting a mistake in the options as a usage error (exit 2). */
  private <T> T usage(java.util.function.Supplier<T> step) {
    try {
      return step.get();
    } catch (IllegalArgumentException e) {
      throw usageError(e.getMessage());
    }
  }

  private CommandLine.ParameterException usageError(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
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
