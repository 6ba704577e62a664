package dev.kv.server;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options that secure kv-server: TLS, and the tokens that calls must carry. */
final class SecurityOptions {

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

  /**
   * The TLS to serve, or null for plaintext.
   *
   * @throws IllegalArgumentException for files that do not go together or cannot be read
   */
  ServerTls serverTls() {
    if (tlsCert == null && tlsKey == null) {
      if (tlsClientCa != null) {
        throw new IllegalArgumentException("--tls-client-ca needs --tls-cert and --tls-key");
      }
      return null;
    }
    if (tlsCert == null || tlsKey == null) {
      throw new IllegalArgumentException("--tls-cert and --tls-key go together: give both");
    }
    return new ServerTls(tlsCert, tlsKey, tlsClientCa);
  }

  /**
   * The tokens calls must carry, or null to serve every client.
   *
   * @throws IllegalArgumentException when the file cannot be read
   */
  BearerTokens tokens() {
    return authTokenFile == null ? null : new BearerTokens(authTokenFile);
  }
}
