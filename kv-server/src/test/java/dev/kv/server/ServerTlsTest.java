package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.tls.Certificates;
import dev.kv.core.tls.PemFiles;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The server's certificate: one that clients refuse, or soon will, is warned about. */
@Timeout(60)
class ServerTlsTest {

  private final Certificates certificates = Certificates.generate();
  private final LoggedRecords logged = LoggedRecords.of(ServerTls.class);

  @AfterEach
  void close() {
    logged.close();
    certificates.close();
  }

  private ServerTls load() {
    return new ServerTls(certificates.serverCert(), certificates.serverKey(), null);
  }

  private List<String> warnings() {
    return logged.records().stream()
        .filter(record -> record.getLevel() == Level.WARNING)
        .map(LogRecord::getMessage)
        .toList();
  }

  /** When the server certificate ends, as its file says, in the form the warnings give it. */
  private Instant notAfter() {
    return PemFiles.certificates(certificates.serverCert(), "the certificate")[0]
        .getNotAfter()
        .toInstant();
  }

  @Test
  void expiredCertificate_isWarnedAboutAtStart_namingTheFileAndTheDate() {
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    certificates.reissueServerCertificate(
        now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)));

    load();

    assertThat(warnings())
        .containsExactly(
            "the certificate "
                + certificates.serverCert()
                + " (CN=localhost) expired on "
                + notAfter()
                + ": clients refuse it; renew it");
  }

  @Test
  void certificateNotValidYet_isWarnedAboutAtStart() {
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    Instant notBefore = now.plus(Duration.ofDays(1));
    certificates.reissueServerCertificate(notBefore, now.plus(Duration.ofDays(30)));

    load();

    assertThat(warnings())
        .containsExactly(
            "the certificate "
                + certificates.serverCert()
                + " (CN=localhost) is not valid until "
                + notBefore
                + ": clients refuse it until then; check this machine's clock");
  }

  @Test
  void certificateThatExpiresSoon_isWarnedAbout_whenReloaded() {
    ServerTls tls = load();
    assertThat(warnings()).isEmpty();

    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    certificates.reissueServerCertificate(now.minus(Duration.ofDays(80)), now.plusSeconds(86_400));
    tls.reloadIfChanged();

    assertThat(warnings())
        .containsExactly(
            "the certificate "
                + certificates.serverCert()
                + " (CN=localhost) expires on "
                + notAfter()
                + ", in less than 14 days: renew it; kv-server reads the renewed files without"
                + " a restart");
  }
}
