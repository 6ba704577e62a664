package dev.kv.core.tls;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;

/**
 * What a client needs to speak TLS: the CAs it trusts to sign the server's certificate, and for
 * mutual TLS its own certificate and key. PEM files, the key in unencrypted PKCS #8.
 *
 * @param caCert the CAs that sign the server's certificate; null for the system's trusted CAs
 * @param cert this client's certificate (chain), for mutual TLS; null for none
 * @param key the private key of {@code cert}; null for none
 */
public record ClientTls(Path caCert, Path cert, Path key) {

  public ClientTls {
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException(
          "a client certificate goes with its private key: give both, or neither");
    }
  }

  /** TLS that trusts the CAs in {@code caCert}, without a client certificate. */
  public static ClientTls trusting(Path caCert) {
    return new ClientTls(caCert, null, null);
  }

  /**
   * The channel credentials, with the files read now: the server's certificate and host name are
   * checked on every connection.
   *
   * @throws IllegalArgumentException naming the file that cannot be read or used
   */
  public ChannelCredentials credentials() {
    TlsChannelCredentials.Builder credentials = TlsChannelCredentials.newBuilder();
    try {
      AdvancedTlsX509TrustManager trust = AdvancedTlsX509TrustManager.newBuilder().build();
      if (caCert == null) {
        trust.useSystemDefaultTrustCerts();
      } else {
        trust.updateTrustCredentials(PemFiles.certificates(caCert, "the CA certificate"));
      }
      credentials.trustManager(trust);
      if (cert != null) {
        AdvancedTlsX509KeyManager identity = new AdvancedTlsX509KeyManager();
        PemFiles.updateIdentity(identity, cert, key, "the client");
        credentials.keyManager(identity);
      }
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
    }
    return credentials.build();
  }
}
