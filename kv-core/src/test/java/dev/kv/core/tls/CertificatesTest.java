package dev.kv.core.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.util.CertificateUtils;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class CertificatesTest {

  private static Certificates certificates;

  @BeforeAll
  static void generate() {
    certificates = Certificates.generate();
  }

  @AfterAll
  static void close() {
    certificates.close();
  }

  @Test
  void keys_arePkcs8Pem() throws Exception {
    for (Path key :
        new Path[] {
          certificates.serverKey(),
          certificates.clientKey(),
          certificates.otherClientKey(),
          certificates.otherServerKey()
        }) {
      assertThat(Files.readString(key)).startsWith("-----BEGIN PRIVATE KEY-----");
      assertThat(privateKey(key).getAlgorithm()).isEqualTo("EC");
    }
  }

  @Test
  void serverCertificate_chainsToCa_forLoopbackNames() throws Exception {
    X509Certificate server = certificate(certificates.serverCert());
    X509Certificate ca = certificate(certificates.caCert());

    server.verify(ca.getPublicKey());
    ca.verify(ca.getPublicKey());
    assertThat(ca.getBasicConstraints()).isNotNegative();
    assertThat(server.getBasicConstraints()).isEqualTo(-1);
    assertThat(server.getExtendedKeyUsage())
        .contains("1.3.6.1.5.5.7.3.1" /* serverAuth */, "1.3.6.1.5.5.7.3.2" /* clientAuth */);
    assertThat(server.getSubjectAlternativeNames())
        .extracting(name -> (Object) name.get(1))
        .containsExactly("127.0.0.1", "0:0:0:0:0:0:0:1", "localhost");
    assertMatches(certificates.serverKey(), server);
  }

  @Test
  void clientCertificate_chainsToCa_asKvClient() throws Exception {
    X509Certificate client = certificate(certificates.clientCert());

    client.verify(certificate(certificates.caCert()).getPublicKey());
    assertThat(client.getSubjectX500Principal().getName()).isEqualTo("CN=kv-client");
    assertThat(client.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
    assertMatches(certificates.clientKey(), client);
  }

  @Test
  void otherCertificates_chainToTheOtherCa_only() throws Exception {
    X509Certificate ca = certificate(certificates.caCert());
    X509Certificate otherCa = certificate(certificates.otherCaCert());

    for (Path path : new Path[] {certificates.otherClientCert(), certificates.otherServerCert()}) {
      X509Certificate cert = certificate(path);
      cert.verify(otherCa.getPublicKey());
      assertThatThrownBy(() -> cert.verify(ca.getPublicKey()))
          .isInstanceOf(GeneralSecurityException.class);
    }
    assertMatches(certificates.otherClientKey(), certificate(certificates.otherClientCert()));
    assertMatches(certificates.otherServerKey(), certificate(certificates.otherServerCert()));
  }

  @Test
  void certificates_areValidNow_fromAMinuteAgo() throws Exception {
    X509Certificate server = certificate(certificates.serverCert());

    server.checkValidity();
    assertThat(server.getNotBefore()).isBefore(Date.from(Instant.now().minusSeconds(30)));
    assertThat(server.getNotAfter()).isAfter(Date.from(Instant.now().plusSeconds(86_400)));
  }

  @Test
  void reissueServerCertificate_writesANewKeyAndSerial_withALaterModificationTime()
      throws Exception {
    X509Certificate before = certificate(certificates.serverCert());
    PrivateKey keyBefore = privateKey(certificates.serverKey());
    var certTimeBefore = Files.getLastModifiedTime(certificates.serverCert());
    var keyTimeBefore = Files.getLastModifiedTime(certificates.serverKey());

    certificates.reissueServerCertificate();

    X509Certificate after = certificate(certificates.serverCert());
    assertThat(after.getSerialNumber()).isNotEqualTo(before.getSerialNumber());
    assertThat(privateKey(certificates.serverKey()).getEncoded())
        .isNotEqualTo(keyBefore.getEncoded());
    after.verify(certificate(certificates.caCert()).getPublicKey());
    assertThat(after.getSubjectAlternativeNames())
        .containsExactlyElementsOf(before.getSubjectAlternativeNames());
    assertMatches(certificates.serverKey(), after);
    assertThat(Files.getLastModifiedTime(certificates.serverCert())).isGreaterThan(certTimeBefore);
    assertThat(Files.getLastModifiedTime(certificates.serverKey())).isGreaterThan(keyTimeBefore);
    try (var files = Files.list(certificates.directory())) {
      assertThat(files.map(path -> path.getFileName().toString()))
          .noneMatch(name -> name.endsWith(".next"));
    }
  }

  @Test
  void close_removesTheDirectory() {
    Certificates own = Certificates.generate();
    assertThat(own.caCert()).exists();

    own.close();

    assertThat(own.directory()).doesNotExist();
  }

  private static X509Certificate certificate(Path path) throws Exception {
    try (InputStream in = Files.newInputStream(path)) {
      X509Certificate[] chain = CertificateUtils.getX509Certificates(in);
      assertThat(chain).hasSize(1);
      return chain[0];
    }
  }

  private static PrivateKey privateKey(Path path) throws Exception {
    try (InputStream in = Files.newInputStream(path)) {
      return CertificateUtils.getPrivateKey(in);
    }
  }

  /** The key signs what the certificate's public key verifies. */
  private static void assertMatches(Path key, X509Certificate cert) throws Exception {
    byte[] data = "kv".getBytes();
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(privateKey(key));
    signer.update(data);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(cert.getPublicKey());
    verifier.update(data);
    assertThat(verifier.verify(signature)).isTrue();
  }
}
