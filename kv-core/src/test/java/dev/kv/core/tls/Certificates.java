package dev.kv.core.tls;

import dev.kv.core.Executables;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Throwaway X.509 material for TLS tests, generated with the {@code openssl} command line into a
 * temporary directory of its own, removed by {@link #close}:
 *
 * <ul>
 *   <li>a test CA, and signed by it a server certificate (for {@code 127.0.0.1}, {@code ::1} and
 *       {@code localhost}, usable for server and client authentication) and a client certificate
 *       ({@code CN=kv-client});
 *   <li>an unrelated CA, and signed by it a client and a server certificate, which peers that trust
 *       only the test CA must refuse.
 * </ul>
 *
 * <p>Every key is an unencrypted PKCS#8 PEM file ({@code BEGIN PRIVATE KEY}) on curve P-256, as
 * grpc-java, Netty and etcd read it. Certificates are valid for a month from a minute ago, so that
 * a clock a little behind does not reject them.
 *
 * <p>Uses {@code openssl} (OpenSSL 3) from {@code /usr/bin/openssl} or the {@code PATH}. Without
 * it, the tests fail: they never skip.
 */
public final class Certificates implements AutoCloseable {

  /** Longer than the time before its end at which kv-server warns of a certificate. */
  private static final Duration VALIDITY = Duration.ofDays(30);

  private static final Duration CLOCK_SKEW = Duration.ofMinutes(1);

  /** How much later a reissued file's modification time is, at least, than the one it replaces. */
  private static final Duration MTIME_STEP = Duration.ofSeconds(2);

  private static final DateTimeFormatter OPENSSL_TIME =
      DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);

  /**
   * {@code openssl ca} rather than {@code openssl x509 -req}: OpenSSL 3.0 can back-date a
   * certificate only through {@code ca -startdate}, which needs a configuration and a database.
   */
  private static final String CONFIG =
      """
      [ca]
      default_ca = test_ca

      [test_ca]
      database = index.txt
      serial = serial
      new_certs_dir = issued
      default_md = sha256
      policy = any_name
      unique_subject = no
      copy_extensions = none

      [any_name]
      commonName = supplied

      [ca_ext]
      basicConstraints = critical, CA:TRUE
      keyUsage = critical, keyCertSign, cRLSign
      subjectKeyIdentifier = hash

      [server_ext]
      basicConstraints = critical, CA:FALSE
      keyUsage = critical, digitalSignature
      # clientAuth too: etcd dials itself (its HTTP gateway) with its server certificate.
      extendedKeyUsage = serverAuth, clientAuth
      subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
      authorityKeyIdentifier = keyid

      [elsewhere_ext]
      basicConstraints = critical, CA:FALSE
      keyUsage = critical, digitalSignature
      extendedKeyUsage = serverAuth
      subjectAltName = DNS:elsewhere.example
      authorityKeyIdentifier = keyid

      [client_ext]
      basicConstraints = critical, CA:FALSE
      keyUsage = critical, digitalSignature
      extendedKeyUsage = clientAuth
      authorityKeyIdentifier = keyid
      """;

  private final String openssl;
  private final Path directory;
  private final Path work;

  private Certificates(String openssl, Path directory) {
    this.openssl = openssl;
    this.directory = directory;
    this.work = directory.resolve("openssl");
  }

  /**
   * Generates both CAs and every certificate and key in a new temporary directory.
   *
   * @throws IllegalStateException if {@code openssl} is missing or fails
   */
  public static Certificates generate() {
    String openssl = binary();
    Path directory;
    try {
      directory = Files.createTempDirectory("kv-tls-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Certificates certificates = new Certificates(openssl, directory);
    try {
      certificates.generateAll();
      return certificates;
    } catch (RuntimeException e) {
      certificates.close();
      throw e;
    }
  }

  private void generateAll() {
    try {
      Files.createDirectories(work.resolve("issued"));
      Files.writeString(work.resolve("openssl.cnf"), CONFIG);
      Files.writeString(work.resolve("index.txt"), "");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    selfSign(caKey(), caCert(), "/CN=kv test CA");
    issue(serverKey(), serverCert(), "/CN=localhost", "server_ext", caCert(), caKey());
    issue(clientKey(), clientCert(), "/CN=kv-client", "client_ext", caCert(), caKey());
    issue(
        elsewhereServerKey(),
        elsewhereServerCert(),
        "/CN=elsewhere.example",
        "elsewhere_ext",
        caCert(),
        caKey());
    selfSign(otherCaKey(), otherCaCert(), "/CN=kv other CA");
    issue(
        otherServerKey(),
        otherServerCert(),
        "/CN=localhost",
        "server_ext",
        otherCaCert(),
        otherCaKey());
    issue(
        otherClientKey(),
        otherClientCert(),
        "/CN=kv-client",
        "client_ext",
        otherCaCert(),
        otherCaKey());
  }

  /** The directory that holds every file, removed by {@link #close}. */
  public Path directory() {
    return directory;
  }

  /** The test CA's certificate: what servers and clients trust. */
  public Path caCert() {
    return directory.resolve("ca.crt");
  }

  /**
   * The server certificate, signed by the test CA, for {@code 127.0.0.1}, {@code ::1} and {@code
   * localhost}; replaced by {@link #reissueServerCertificate}.
   */
  public Path serverCert() {
    return directory.resolve("server.crt");
  }

  /** The private key of {@link #serverCert}. */
  public Path serverKey() {
    return directory.resolve("server.key");
  }

  /** The client certificate, {@code CN=kv-client}, signed by the test CA. */
  public Path clientCert() {
    return directory.resolve("client.crt");
  }

  /** The private key of {@link #clientCert}. */
  public Path clientKey() {
    return directory.resolve("client.key");
  }

  /** The certificate of a CA that nothing trusts. */
  public Path otherCaCert() {
    return directory.resolve("other-ca.crt");
  }

  /** A client certificate, {@code CN=kv-client}, signed by the other CA: an untrusted client. */
  public Path otherClientCert() {
    return directory.resolve("other-client.crt");
  }

  /** The private key of {@link #otherClientCert}. */
  public Path otherClientKey() {
    return directory.resolve("other-client.key");
  }

  /**
   * A server certificate from the test CA for another host only ({@code elsewhere.example}): one
   * that clients reaching {@code 127.0.0.1} must refuse for its name.
   */
  public Path elsewhereServerCert() {
    return directory.resolve("elsewhere-server.crt");
  }

  /** The private key of {@link #elsewhereServerCert}. */
  public Path elsewhereServerKey() {
    return directory.resolve("elsewhere-server.key");
  }

  /**
   * A server certificate with the same names as {@link #serverCert}, signed by the other CA: a
   * server that clients trusting the test CA must refuse.
   */
  public Path otherServerCert() {
    return directory.resolve("other-server.crt");
  }

  /** The private key of {@link #otherServerCert}. */
  public Path otherServerKey() {
    return directory.resolve("other-server.key");
  }

  /**
   * Replaces {@link #serverKey} and {@link #serverCert} with a new key and a certificate for it,
   * from the same CA for the same names, with a new serial number. Each file is written aside and
   * then renamed over the old one, so a reader sees either the old or the new file, never part of
   * one; the key is replaced first, then the certificate. Both get a modification time at least two
   * seconds after the old one's, so that a reloader polling it sees the change even on a file
   * system with a coarse clock.
   */
  public void reissueServerCertificate() {
    Instant now = Instant.now();
    reissueServerCertificate(now.minus(CLOCK_SKEW), now.plus(VALIDITY));
  }

  /**
   * Replaces the server's key and certificate as {@link #reissueServerCertificate()} does, with a
   * certificate valid from {@code notBefore} to {@code notAfter}: one that has expired, or is not
   * valid yet.
   */
  public synchronized void reissueServerCertificate(Instant notBefore, Instant notAfter) {
    Path key = directory.resolve("server.key.next");
    Path cert = directory.resolve("server.crt.next");
    issue(key, cert, "/CN=localhost", "server_ext", caCert(), caKey(), notBefore, notAfter);
    try {
      replace(key, serverKey());
      replace(cert, serverCert());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void replace(Path next, Path current) throws IOException {
    FileTime now = FileTime.from(Instant.now());
    FileTime later = FileTime.from(Files.getLastModifiedTime(current).toInstant().plus(MTIME_STEP));
    Files.setLastModifiedTime(next, now.compareTo(later) > 0 ? now : later);
    Files.move(next, current, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Removes the directory and everything in it. */
  @Override
  public void close() {
    try (Stream<Path> files = Files.walk(directory)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    } catch (IOException e) {
      // The temporary directory is left behind; nothing else depends on it.
    }
  }

  private Path caKey() {
    return directory.resolve("ca.key");
  }

  private Path otherCaKey() {
    return directory.resolve("other-ca.key");
  }

  private void selfSign(Path key, Path cert, String subject) {
    Path request = newKeyAndRequest(key, subject);
    Instant now = Instant.now();
    List<String> args =
        signingArgs(request, cert, "ca_ext", now.minus(CLOCK_SKEW), now.plus(VALIDITY));
    args.addAll(List.of("-selfsign", "-keyfile", key.toString()));
    openssl(args);
  }

  private void issue(
      Path key, Path cert, String subject, String extensions, Path caCert, Path caKey) {
    Instant now = Instant.now();
    issue(key, cert, subject, extensions, caCert, caKey, now.minus(CLOCK_SKEW), now.plus(VALIDITY));
  }

  private void issue(
      Path key,
      Path cert,
      String subject,
      String extensions,
      Path caCert,
      Path caKey,
      Instant notBefore,
      Instant notAfter) {
    Path request = newKeyAndRequest(key, subject);
    List<String> args = signingArgs(request, cert, extensions, notBefore, notAfter);
    args.addAll(List.of("-cert", caCert.toString(), "-keyfile", caKey.toString()));
    openssl(args);
  }

  /** A new P-256 key, unencrypted ({@code -noenc}), and a signing request for it. */
  private Path newKeyAndRequest(Path key, String subject) {
    Path request = work.resolve(key.getFileName() + ".csr");
    openssl(
        List.of(
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-noenc",
            "-keyout",
            key.toString(),
            "-subj",
            subject,
            "-out",
            request.toString()));
    return request;
  }

  private List<String> signingArgs(
      Path request, Path cert, String extensions, Instant notBefore, Instant notAfter) {
    return new ArrayList<>(
        List.of(
            "ca",
            "-config",
            "openssl.cnf",
            "-batch",
            "-notext",
            "-rand_serial",
            "-startdate",
            OPENSSL_TIME.format(notBefore),
            "-enddate",
            OPENSSL_TIME.format(notAfter),
            "-extensions",
            extensions,
            "-in",
            request.toString(),
            "-out",
            cert.toString()));
  }

  /** Runs {@code openssl} in the working directory, failing with what it printed if it fails. */
  private void openssl(List<String> args) {
    List<String> command = new ArrayList<>(List.of(openssl));
    command.addAll(args);
    try {
      Process process =
          new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true).start();
      process.getOutputStream().close();
      // openssl prints a few lines: reading them all before waiting cannot fill a pipe.
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("openssl " + String.join(" ", args) + " did not finish");
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            "openssl "
                + String.join(" ", args)
                + " exited with "
                + process.exitValue()
                + ":\n"
                + output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running openssl", e);
    }
  }

  private static String binary() {
    return Executables.find("openssl", null, "apt-get install openssl");
  }
}
