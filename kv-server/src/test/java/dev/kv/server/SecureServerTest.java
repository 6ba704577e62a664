package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.config.HostPort;
import dev.kv.core.memory.MemoryStore;
import dev.kv.core.remote.RemoteStore;
import dev.kv.core.tls.Certificates;
import dev.kv.core.tls.ClientTls;
import dev.kv.core.tls.PemFiles;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** kv-server with TLS, mutual TLS and tokens: who is served, who is refused, and how it reads. */
@Timeout(60)
class SecureServerTest {

  private static final Certificates certificates = Certificates.generate();
  private static final Duration RELOAD = Duration.ofMillis(100);

  @AutoClose private final Closer closer = new Closer();
  private KvServer server;

  @AfterAll
  static void removeCertificates() {
    certificates.close();
  }

  private void start(ServerTls tls, BearerTokens tokens) throws Exception {
    MemoryStore store = closer.add(new MemoryStore());
    server =
        KvServer.builder(new HostPort("127.0.0.1", 0), store)
            .tls(tls)
            .bearerTokens(tokens)
            .reloadInterval(RELOAD)
            .build()
            .start();
    closer.add(() -> server.stop(Duration.ZERO));
  }

  private KvStore client(ClientTls tls, String token) {
    RemoteStore.Builder builder =
        RemoteStore.builder().server(new HostPort("127.0.0.1", server.port())).tls(tls);
    if (token != null) {
      builder.bearerToken(token);
    }
    return closer.add(builder.build());
  }

  private static ServerTls tlsOnly() {
    return new ServerTls(certificates.serverCert(), certificates.serverKey(), null);
  }

  private static ServerTls mutualTls() {
    return new ServerTls(
        certificates.serverCert(), certificates.serverKey(), certificates.caCert());
  }

  private static ClientTls clientTls() {
    return new ClientTls(
        certificates.caCert(), certificates.clientCert(), certificates.clientKey());
  }

  @Test
  void tls_servesClientsThatTrustItsCa_andRefusesTheOthersClearly() throws Exception {
    start(tlsOnly(), null);

    KvStore trusting = client(ClientTls.trusting(certificates.caCert()), null);
    trusting.blocking().set("k", "v");
    assertThat(trusting.blocking().get("k")).contains("v");

    assertThatThrownBy(() -> client(null, null).blocking().get("k"))
        .isInstanceOf(KvException.class)
        .hasMessage(
            "kv-server at 127.0.0.1:"
                + server.port()
                + " closed the connection at once; if it serves TLS, connect with TLS");
    assertThatThrownBy(
            () -> client(ClientTls.trusting(certificates.otherCaCert()), null).blocking().get("k"))
        .hasMessage(
            "TLS with kv-server at 127.0.0.1:"
                + server.port()
                + " failed: its certificate is not signed by a trusted CA");
  }

  @Test
  void certificateFromTheTrustedCaForAnotherName_isRefused() throws Exception {
    start(
        new ServerTls(certificates.elsewhereServerCert(), certificates.elsewhereServerKey(), null),
        null);

    assertThatThrownBy(
            () -> client(ClientTls.trusting(certificates.caCert()), null).blocking().get("k"))
        .hasMessageStartingWith(
            "TLS with kv-server at 127.0.0.1:"
                + server.port()
                + " failed: its certificate is not for this address");
  }

  @Test
  void mutualTls_servesOnlyClientsWithACertificateFromItsCa() throws Exception {
    start(mutualTls(), null);

    KvStore withCertificate = client(clientTls(), null);
    withCertificate.blocking().set("k", "v");
    assertThat(withCertificate.blocking().get("k")).contains("v");

    assertThatThrownBy(
            () -> client(ClientTls.trusting(certificates.caCert()), null).blocking().get("k"))
        .hasMessageContaining("failed: it refused this client's certificate, or wants one");
    ClientTls otherCa =
        new ClientTls(
            certificates.caCert(), certificates.otherClientCert(), certificates.otherClientKey());
    assertThatThrownBy(() -> client(otherCa, null).blocking().get("k"))
        .hasMessageContaining("failed: it refused this client's certificate, or wants one");
  }

  @Test
  void tokens_onlyCallsWithOneAreServed_healthStaysOpen() throws Exception {
    Path file = certificates.directory().resolve("tokens");
    Files.writeString(file, "first-token\nsecond-token\n");
    start(null, new BearerTokens(file));

    assertThat(unauthenticated(client(null, null)))
        .hasMessage("this kv-server needs a token: send the header 'authorization: Bearer TOKEN'");
    assertThat(unauthenticated(client(null, "guessed")))
        .hasMessage("the token is not valid for this kv-server");
    client(null, "first-token").blocking().set("k", "v");
    assertThat(client(null, "second-token").blocking().get("k")).contains("v");
    // Health is open, for load balancers: checkHealth sends no token.
    client(null, null).checkHealth().get();
  }

  @Test
  void tokenFile_changed_isReadAgain_withoutARestart() throws Exception {
    Path file = certificates.directory().resolve("rotated");
    Files.writeString(file, "old-token\n");
    start(null, new BearerTokens(file));
    client(null, "old-token").blocking().set("k", "v");

    Files.writeString(file, "new-token\n");

    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> client(null, "new-token").blocking().get("k").isPresent());
    assertThat(unauthenticated(client(null, "old-token")))
        .hasMessage("the token is not valid for this kv-server");

    // Emptied, as an operator would to cut every client off: every call is refused, and the log
    // says why.
    try (LoggedRecords logged = LoggedRecords.of(BearerTokens.class)) {
      Files.writeString(file, "");
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(
              () ->
                  unauthenticated(client(null, "new-token"))
                      .getMessage()
                      .equals("the token is not valid for this kv-server"));
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  logged.records().stream()
                      .anyMatch(record -> record.getMessage().contains("is gone or empty")));
    }
  }

  @Test
  void renewedCertificate_isServedToNewConnections_withoutARestart() throws Exception {
    start(tlsOnly(), null);
    BigInteger before = servedSerial();
    KvStore connected = client(ClientTls.trusting(certificates.caCert()), null);
    connected.blocking().set("k", "v");

    certificates.reissueServerCertificate();

    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !servedSerial().equals(before));
    assertThat(servedSerial())
        .isEqualTo(
            PemFiles.certificates(certificates.serverCert(), "the certificate")[0]
                .getSerialNumber());
    assertThat(connected.blocking().get("k")).contains("v");
    assertThat(client(ClientTls.trusting(certificates.caCert()), null).blocking().get("k"))
        .contains("v");
  }

  private static KvException unauthenticated(KvStore store) {
    KvException error =
        (KvException)
            org.assertj.core.api.Assertions.catchThrowable(() -> store.blocking().get("k"));
    assertThat(error.code()).isEqualTo(KvException.Code.UNAUTHENTICATED);
    return error;
  }

  /** The serial number of the certificate the server presents to a new connection. */
  private BigInteger servedSerial() throws Exception {
    KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
    trusted.load(null, null);
    trusted.setCertificateEntry(
        "ca", PemFiles.certificates(certificates.caCert(), "the CA certificate")[0]);
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    try (SSLSocket socket =
        (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", server.port())) {
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setApplicationProtocols(new String[] {"h2"});
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }
}
