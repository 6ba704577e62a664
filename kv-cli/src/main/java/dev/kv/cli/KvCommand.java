package dev.kv.cli;

import dev.kv.core.KvStore;
import dev.kv.core.KvVersion;
import dev.kv.core.config.HostPort;
import dev.kv.core.config.Secrets;
import dev.kv.core.etcd.EtcdEndpoints;
import dev.kv.core.etcd.EtcdStore;
import dev.kv.core.remote.RemoteStore;
import dev.kv.core.tls.ClientTls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** {@code kv}: the options every command shares, and the store they reach. */
@Command(
    name = "kv",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    subcommands = {
      GetCommand.class,
      SetCommand.class,
      DelCommand.class,
      ListCommand.class,
      WatchCommand.class,
      BenchCommand.class,
      CompletionCommand.class,
      HelpCommand.class
    },
    description = {
      "Reads and writes keys in a kv store: through kv-server (--server), or directly in "
          + "etcd (--etcd).",
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
      names = "--etcd",
      paramLabel = "URLS",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD}",
      description = {
        "Talk to etcd directly instead of kv-server: its members' client URLs, such as "
            + "http://127.0.0.1:2379,http://127.0.0.1:22379.",
        "Env: KV_ETCD (which --server on the command line overrides)."
      })
  EtcdEndpoints etcd;

  @Option(
      names = "--etcd-authority",
      paramLabel = "NAME",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD_AUTHORITY}",
      description = {
        "With --etcd: the :authority of every call, for a proxy that routes on it (such as "
            + "Envoy's etcd listener, authority etcd).",
        "Env: KV_ETCD_AUTHORITY."
      })
  String etcdAuthority;

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
        "The CA certificate (PEM) that signs the certificate of kv-server, or of the etcd "
            + "members with https:// URLs; implies --tls.",
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
      names = "--etcd-user",
      paramLabel = "NAME",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD_USER}",
      description = {
        "With --etcd: the etcd user to sign in as. The password comes from "
            + "--etcd-password-file or KV_ETCD_PASSWORD, never from the command line.",
        "Env: KV_ETCD_USER."
      })
  String etcdUser;

  @Option(
      names = "--etcd-password-file",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD_PASSWORD_FILE}",
      description = {
        "The file that holds the password of --etcd-user.",
        "Env: KV_ETCD_PASSWORD_FILE, or the password itself in KV_ETCD_PASSWORD."
      })
  Path etcdPasswordFile;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_TIMEOUT:-5s}",
      description = {
        "How long to wait for an answer, such as 500ms, 5s or 1m.",
        "Env: KV_TIMEOUT. Default: ${DEFAULT-VALUE}."
      })
  Duration timeout;

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
        spec.commandLine(), "missing command: get, set, del, list, watch or bench");
  }

  /** The store the commands work on: etcd with --etcd, kv-server otherwise. */
  KvStore store() {
    if (store == null) {
      if (given("--etcd") && given("--server")) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--server and --etcd exclude each other: choose one");
      }
      try {
        store = etcd != null && !given("--server") ? etcdStore() : remoteStore();
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
    }
    return store;
  }

  private KvStore etcdStore() {
    EtcdStore.Builder builder =
        EtcdStore.builder().endpoints(etcd).authority(etcdAuthority).timeout(timeout);
    if (tls && !etcd.https()) {
      throw new IllegalArgumentException(
          "--tls with etcd endpoints that are http:// ("
              + etcd
              + "): give https:// endpoints for members that serve TLS");
    }
    if (caCert != null || cert != null || key != null) {
      builder.tls(new ClientTls(caCert, cert, key));
    }
    String password = Secrets.etcdPassword(etcdUser, etcdPasswordFile);
    if (password != null) {
      builder.user(etcdUser, password);
    }
    return builder.build();
  }

  private KvStore remoteStore() {
    if (etcdUser != null || etcdPasswordFile != null) {
      throw new IllegalArgumentException(
          "--etcd-user and --etcd-password-file are for --etcd; kv-server takes --auth-token-file");
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

  /** Whether {@code option} was on the command line, before or after the command's name. */
  private boolean given(String option) {
    for (ParseResult parsed = spec.commandLine().getParseResult();
        parsed != null;
        parsed = parsed.subcommand()) {
      if (parsed.hasMatchedOption(option)) {
        return true;
      }
    }
    return false;
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
