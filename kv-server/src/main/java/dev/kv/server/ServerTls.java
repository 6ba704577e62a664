package dev.kv.server;

import dev.kv.core.tls.PemFiles;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * The server's side of TLS: its certificate and key, and for mutual TLS the CA that signs the
 * clients' certificates. The files are read again when they change, so that renewed certificates
 * take effect for new connections without a restart; connections already open keep theirs.
 */
public final class ServerTls {

  private static final Logger logger = Logger.getLogger(ServerTls.class.getName());

  private final Path cert;
  private final Path key;
  private final Path clientCa;
  private final AdvancedTlsX509KeyManager identity = new AdvancedTlsX509KeyManager();
  private final AdvancedTlsX509TrustManager clients;
  private final FileStamps stamps;

  /**
   * Reads the files now.
   *
   * @param clientCa the CA that signs the clients' certificates, for mutual TLS; null for none
   * @throws IllegalArgumentException naming a file that cannot be read or used
   */
  public ServerTls(Path cert, Path key, Path clientCa) {
    this.cert = cert;
    this.key = key;
    this.clientCa = clientCa;
    List<Path> files = new ArrayList<>(List.of(cert, key));
    try {
      if (clientCa == null) {
        clients = null;
      } else {
        files.add(clientCa);
        clients = AdvancedTlsX509TrustManager.newBuilder().build();
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
    }
    this.stamps = new FileStamps(files);
    load();
  }

  /** Whether clients must present a certificate signed by the client CA. */
  public boolean mutual() {
    return clients != null;
  }

  ServerCredentials credentials() {
    TlsServerCredentials.Builder credentials =
        TlsServerCredentials.newBuilder().keyManager(identity);
    if (clients != null) {
      credentials.trustManager(clients).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    }
    return credentials.build();
  }

  /** Reads the files again if any changed; a file that cannot be used leaves the last ones. */
  void reloadIfChanged() {
    if (!stamps.changed()) {
      return;
    }
    try {
      load();
      logger.info(() -> "TLS files reloaded: " + stamps.files());
    } catch (RuntimeException e) {
      logger.warning(
          "TLS files changed but cannot be used, keeping the previous ones: " + e.getMessage());
    }
  }

  /** Reads every file, the client CA first, so that one that cannot be used changes nothing. */
  private void load() {
    var cas = clientCa == null ? null : PemFiles.certificates(clientCa, "the client CA");
    PemFiles.updateIdentity(identity, cert, key, "the");
    if (clients != null) {
      try {
        clients.updateTrustCredentials(cas);
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
      }
    }
  }
}
