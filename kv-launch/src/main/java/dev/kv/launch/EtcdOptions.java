package dev.kv.launch;

import dev.kv.core.etcd.EtcdEndpoints;
import dev.kv.core.etcd.EtcdStore;
import dev.kv.core.etcd.EtcdStoreBuilder;
import dev.kv.core.tls.ClientTls;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * How to reach etcd: the same options, under the same names, in {@code kv} (which talks to etcd
 * directly when given {@code --etcd-endpoints}) and {@code kv-server} (with {@code --store etcd}).
 */
public final class EtcdOptions {

  @Option(
      names = "--etcd-endpoints",
      paramLabel = "URLS",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD_ENDPOINTS}",
      description = {
        "The client URLs of the etcd members, comma-separated, such as "
            + "http://127.0.0.1:2379,http://127.0.0.1:22379. Calls move to another member "
            + "when one goes away.",
        "Env: KV_ETCD_ENDPOINTS."
      })
  EtcdEndpoints endpoints;

  @Option(
      names = "--etcd-authority",
      paramLabel = "NAME",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD_AUTHORITY}",
      description = {
        "The :authority of every call to etcd, for a proxy that routes on it (such as Envoy's "
            + "etcd listener, authority etcd).",
        "Env: KV_ETCD_AUTHORITY."
      })
  String authority;

  @Option(
      names = "--etcd-cacert",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD_CACERT}",
      description = {
        "With https:// etcd endpoints: the CA certificate (PEM) that signs the members' "
            + "certificates. Default: the system's trusted CAs.",
        "Env: KV_ETCD_CACERT."
      })
  Path caCert;

  @Option(
      names = "--etcd-cert",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD_CERT}",
      description = {
        "With https:// etcd endpoints: the client certificate (PEM) for members that ask for "
            + "one (--client-cert-auth). Goes with --etcd-key.",
        "Env: KV_ETCD_CERT."
      })
  Path cert;

  @Option(
      names = "--etcd-key",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD_KEY}",
      description = {
        "The private key of --etcd-cert: unencrypted PKCS #8 PEM (BEGIN PRIVATE KEY).",
        "Env: KV_ETCD_KEY."
      })
  Path key;

  @Option(
      names = "--etcd-user",
      paramLabel = "NAME",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD_USER}",
      description = {
        "The etcd user to sign in as, when etcd has authentication enabled. The password comes "
            + "from --etcd-password-file or KV_ETCD_PASSWORD, never from the command line. "
            + "Expired tokens are renewed by themselves.",
        "Env: KV_ETCD_USER."
      })
  String user;

  @Option(
      names = "--etcd-password-file",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD_PASSWORD_FILE}",
      description = {
        "The file that holds the password of --etcd-user (a final line break is ignored).",
        "Env: KV_ETCD_PASSWORD_FILE, or the password itself in KV_ETCD_PASSWORD."
      })
  Path passwordFile;

  @Option(
      names = "--etcd-timeout",
      paramLabel = "DURATION",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD_TIMEOUT:-5s}",
      description = {
        "How long each call to etcd may take, retries included.",
        "Env: KV_ETCD_TIMEOUT. Default: ${DEFAULT-VALUE}."
      })
  Duration timeout;

  @Option(
      names = "--etcd-max-txn-ops",
      paramLabel = "N",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD_MAX_TXN_OPS:-128}",
      description = {
        "The members' --max-txn-ops: concurrent reads and writes go to etcd together, in "
            + "transactions of at most this many operations; 1 sends each as its own call.",
        "Env: KV_ETCD_MAX_TXN_OPS. Default: ${DEFAULT-VALUE}, etcd's own."
      })
  int maxTxnOps;

  /** The members to reach; null when neither the option nor its variable is given. */
  public EtcdEndpoints endpoints() {
    return endpoints;
  }

  /** Takes {@code endpoints}, given under another name. */
  public void endpoints(EtcdEndpoints endpoints) {
    this.endpoints = endpoints;
  }

  public Path caCert() {
    return caCert;
  }

  /** Takes {@code caCert}, given under another name. */
  public void caCert(Path caCert) {
    this.caCert = caCert;
  }

  public Path cert() {
    return cert;
  }

  /** Takes {@code cert}, given under another name. */
  public void cert(Path cert) {
    this.cert = cert;
  }

  public Path key() {
    return key;
  }

  /** Takes {@code key}, given under another name. */
  public void key(Path key) {
    this.key = key;
  }

  /** Whether a user, or a password file, is given: to sign in to etcd. */
  public boolean signsIn() {
    return user != null || passwordFile != null;
  }

  /** Takes {@code timeout}, given under another name. */
  public void timeout(Duration timeout) {
    this.timeout = timeout;
  }

  /**
   * The etcd store these options describe, to finish and build: with TLS when a certificate or key
   * is given, and signed in when a user is.
   *
   * @throws IllegalArgumentException when the options cannot be used, such as a user without a
   *     password
   */
  public EtcdStoreBuilder storeBuilder() {
    EtcdStoreBuilder builder =
        EtcdStore.builder()
            .endpoints(endpoints)
            .authority(authority)
            .timeout(timeout)
            .maxTxnOps(maxTxnOps);
    if (caCert != null || cert != null || key != null) {
      builder.tls(new ClientTls(caCert, cert, key));
    }
    String password = Secrets.etcdPassword(user, passwordFile);
    if (password != null) {
      builder.user(user, password);
    }
    return builder;
  }
}
