package dev.kv.server;

import dev.kv.core.tls.PemFiles;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The server's side of TLS: its certificate and key, and for mutual TLS the CA that signs the
 * clients' certificates. The files are read again when they change, so that renewed certificates
 * take effect for new connections without a restart; connections already open keep theirs. A
 * certificate that clients refuse, or soon will, is warned of: expired, not valid yet, or within
 * {@link #EXPIRY_WARNING} of its end.
 */
public final class ServerTls {

  private static final Logger logger = Logger.getLogger(ServerTls.class.getName());

  /** How long before a certificate ends it is warned of: time enough to renew it. */
  static final Duration EXPIRY_WARNING = Duration.ofDays(14);

  private final Path cert;
  private final Path key;
  private final Path clientCa;
  private final AdvancedTlsX509KeyManager identity = new AdvancedTlsX509KeyManager();
  private final AdvancedTlsX509TrustManager clients;
  private final FileStamps stamps;

  /** The certificates in use, by the file they came from. */
  private Map<Path, X509Certificate[]> inUse = Map.of();

  /** The warnings given of the certificates in use, each given once. */
  private final Set<String> warned = new HashSet<>();

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
    warnOfValidity();
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

  /**
   * Reads the files again if any changed; a file that cannot be used leaves the last ones. Warns of
   * a certificate in use that clients refuse, or soon will, whether it changed or time passed.
   */
  synchronized void reloadIfChanged() {
    if (stamps.changed()) {
      try {
        load();
        logger.info(() -> "TLS files reloaded: " + stamps.files());
      } catch (RuntimeException e) {
        logger.warning(
            "TLS files changed but cannot be used, keeping the previous ones: " + e.getMessage());
      }
    }
    warnOfValidity();
  }

  /** Reads every file, the client CA first, so that one that cannot be used changes nothing. */
  private void load() {
    var cas = clientCa == null ? null : PemFiles.certificates(clientCa, "the client CA");
    Map<Path, X509Certificate[]> loaded = new LinkedHashMap<>();
    loaded.put(cert, PemFiles.updateIdentity(identity, cert, key, "the"));
    if (clients != null) {
      try {
        clients.updateTrustCredentials(cas);
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
      }
      loaded.put(clientCa, cas);
    }
    inUse = loaded;
    warned.clear();
  }

  private void warnOfValidity() {
    Instant now = Instant.now();
    inUse.forEach(
        (file, certificates) -> {
          for (X509Certificate certificate : certificates) {
            String warning = validityWarning(file, certificate, now);
            if (warning != null && warned.add(warning)) {
              logger.warning(warning);
            }
          }
        });
  }

  /** What is wrong with {@code certificate} at {@code now}, or null for nothing. */
  private static String validityWarning(Path file, X509Certificate certificate, Instant now) {
    String named =
        "the certificate " + file + " (" + certificate.getSubjectX500Principal().getName() + ")";
    Instant notBefore = certificate.getNotBefore().toInstant();
    Instant notAfter = certificate.getNotAfter().toInstant();
    if (now.isAfter(notAfter)) {
      return named + " expired on " + notAfter + ": clients refuse it; renew it";
    }
    if (now.isBefore(notBefore)) {
      return named
          + " is not valid until "
          + notBefore
          + ": clients refuse it until then; check this machine's clock";
    }
    if (now.plus(EXPIRY_WARNING).isAfter(notAfter)) {
      return named
          + " expires on "
          + notAfter
          + ", in less than "
          + EXPIRY_WARNING.toDays()
          + " days: renew it; kv-server reads the renewed files without a restart";
    }
    return null;
  }
}
