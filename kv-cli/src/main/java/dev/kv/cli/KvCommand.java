package dev.kv.cli;

import dev.kv.core.KvStore;
import dev.kv.core.KvVersion;
import dev.kv.core.config.HostPort;
import dev.kv.core.remote.RemoteStore;
import dev.kv.core.tls.ClientTls;
import dev.kv.launch.CommandLines;
import dev.kv.launch.EtcdOptions;
import dev.kv.launch.Secrets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code kv}: the options every command shares, and the store they reach. Its subcommands are
 * {@link Cli#COMMANDS}.
 */
@Command(
    name = "kv",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = {
      "Reads and writes keys in a kv store: through kv-server (--server), or directly in "
          + "etcd (--etcd-endpoints, which KV_ETCD_ENDPOINTS sets unless --server is on the "
          + "command line).",
      "",
      "Every option can also be set by the environment variable named in its description; "
          + "an option on the command line wins. A value that starts with '-' follows '--': "
          + "kv set temperature -- -5",
      ""
    },
    commandListHeading = "Commands:%n")
final class KvCommand implements Runnable, AutoCloseable {

  @Spec CommandSpec spec;

  @Option(
      names = "--server",
      paramLabel = "HOST:PORT",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_SERVER:-127.0.0.1:9986}",
      description = {"The kv-server to talk to.", "Env: KV_SERVER. Default: ${DEFAULT-VALUE}."})
  HostPort server;

  @Option(
      names = "--tls",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_TLS:-false}",
      description = {
        "Speak TLS to kv-server, trusting the system's CAs unless --cacert is given. "
            + "(etcd members speak TLS when their URLs are https://.)",
        "Env: KV_TLS."
      })
  boolean tls;

  @Option(
      names = "--cacert",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_CACERT}",
      description = {
        "The CA certificate (PEM) that signs the certificate of kv-server; implies --tls.",
        "Env: KV_CACERT."
      })
  Path caCert;

  @Option(
      names = "--cert",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_CERT}",
      description = {
        "For mutual TLS: this client's certificate (PEM), with --key.",
        "Env: KV_CERT."
      })
  Path cert;

  @Option(
      names = "--key",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_KEY}",
      description = {
        "The private key of --cert: unencrypted PKCS #8 PEM (BEGIN PRIVATE KEY).",
        "Env: KV_KEY."
      })
  Path key;

  @Option(
      names = "--auth-token-file",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_AUTH_TOKEN_FILE}",
      description = {
        "The file that holds the token of a kv-server started with --auth-token-file.",
        "Env: KV_AUTH_TOKEN_FILE, or the token itself in KV_AUTH_TOKEN."
      })
  Path authTokenFile;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_TIMEOUT:-5s}",
      description = {
        "How long to wait for kv-server's answer, such as 500ms, 5s or 1m.",
        "Env: KV_TIMEOUT. Default: ${DEFAULT-VALUE}."
      })
  Duration timeout;

  @Mixin EtcdOptions etcd;

  @Mixin RenamedOptions renamed;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      scope = ScopeType.INHERIT,
      defaultValue = "text",
      description = {
        "text for people, or json for scripts: one JSON object per line, with revisions. "
            + "Default: ${DEFAULT-VALUE}."
      })
  // Set before parsing, for the errors of a command line that does not parse.
  Output output = Output.text;

  boolean verbose;

  private KvStore store;

  @Option(
      names = {"-v", "--verbose"},
      scope = ScopeType.INHERIT,
      description = "On failure, print the whole error, and log what the client library reports.")
  void setVerbose(boolean verbose) {
    this.verbose = verbose;
    Logger.getLogger("").setLevel(verbose ? Level.INFO : Level.OFF);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "missing command: " + Cli.storeCommandNames());
  }

  /** The store the commands work on: etcd with --etcd-endpoints, kv-server otherwise. */
  KvStore store() {
    if (store == null) {
      for (String etcdOption : new String[] {"--etcd-endpoints", "--etcd"}) {
        if (CommandLines.given(spec, etcdOption) && CommandLines.given(spec, "--server")) {
          throw CommandLines.usageError(
              spec, "--server and " + etcdOption + " exclude each other: choose one");
        }
      }
      store = newStore();
    }
    return store;
  }

  /** Another store like {@link #store}, on a connection of its own, for the caller to close. */
  KvStore newStore() {
    return CommandLines.usage(spec, direct() ? this::etcdStore : this::remoteStore);
  }

  /** Where the commands' store is, for a person, without credentials: "kv-server at HOST:PORT". */
  String where() {
    return direct() ? "etcd at " + renamed.endpoints(etcd) : "kv-server at " + server;
  }

  private boolean direct() {
    return renamed.endpoints(etcd) != null && !CommandLines.given(spec, "--server");
  }

  private KvStore etcdStore() {
    String renames = renamed.fillIn(etcd, caCert, cert, key, timeout);
    if (renames != null) {
      output.warning(spec.commandLine().getErr(), renames);
    }
    if (tls && !etcd.endpoints().https()) {
      throw new IllegalArgumentException(
          "--tls with etcd endpoints that are http:// ("
              + etcd.endpoints()
              + "): give https:// endpoints for members that serve TLS");
    }
    return etcd.storeBuilder().build();
  }

  private KvStore remoteStore() {
    if (etcd.signsIn()) {
      throw new IllegalArgumentException(
          "--etcd-user and --etcd-password-file are for --etcd-endpoints; kv-server takes"
              + " --auth-token-file");
    }
    RemoteStore.Builder builder = RemoteStore.builder().server(server).timeout(timeout);
    if (tls || caCert != null || cert != null || key != null) {
      builder.tls(new ClientTls(caCert, cert, key));
    }
    String token =
        Secrets.fromFileOrEnvironment(authTokenFile, "--auth-token-file", "KV_AUTH_TOKEN");
    if (token != null) {
      builder.bearerToken(token);
    }
    return builder.build();
  }

  @Override
  public void close() {
    if (store != null) {
      store.close();
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"kv " + KvVersion.get()};
    }
  }
}
