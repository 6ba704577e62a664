package dev.kv.core.tls;

import io.grpc.util.AdvancedTlsX509KeyManager;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the PEM files TLS is configured with, and says in one line what is wrong with one that
 * cannot be used: missing, unreadable, or in a form Java does not read.
 */
public final class PemFiles {

  private static final Pattern PRIVATE_KEY =
      Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

  private PemFiles() {}

  /**
   * The certificates in {@code file}, in order: a chain, or the CAs to trust.
   *
   * @param what how messages name the file, such as "the CA certificate"
   * @throws IllegalArgumentException when the file cannot be read or holds no certificate
   */
  public static X509Certificate[] certificates(Path file, String what) {
    byte[] pem = read(file, what);
    try {
      X509Certificate[] certificates =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(pem))
              .stream()
              .map(X509Certificate.class::cast)
              .toArray(X509Certificate[]::new);
      if (certificates.length == 0) {
        throw new IllegalArgumentException(
            what + " " + file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
      }
      return certificates;
    } catch (CertificateException e) {
      throw new IllegalArgumentException(
          what + " " + file + " is not a PEM certificate: " + e.getMessage());
    }
  }

  /**
   * The private key in {@code file}: unencrypted PKCS #8 ({@code -----BEGIN PRIVATE KEY-----}),
   * RSA, EC or Ed25519, the form that {@code openssl genpkey} writes.
   *
   * @throws IllegalArgumentException when the file cannot be read or holds another form of key
   */
  public static PrivateKey privateKey(Path file, String what) {
    String pem = new String(read(file, what), StandardCharsets.US_ASCII);
    Matcher block = PRIVATE_KEY.matcher(pem);
    if (!block.find()) {
      throw new IllegalArgumentException(
          what
              + " "
              + file
              + " is not an unencrypted PKCS #8 PEM key (-----BEGIN PRIVATE KEY-----); "
              + "convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8");
    }
    byte[] der = Base64.getMimeDecoder().decode(block.group(1));
    for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // Not this algorithm: try the next one.
      }
    }
    throw new IllegalArgumentException(
        what + " " + file + " is not an RSA, EC or Ed25519 private key");
  }

  /**
   * Reads a certificate and its key into {@code identity}, once both are known to be usable and to
   * go together.
   *
   * @param owner how messages name them, such as "the client" (the client certificate, the client
   *     key)
   * @return the certificate chain now in use
   * @throws IllegalArgumentException naming the file that cannot be used
   */
  public static X509Certificate[] updateIdentity(
      AdvancedTlsX509KeyManager identity, Path cert, Path key, String owner) {
    X509Certificate[] chain = certificates(cert, owner + " certificate");
    PrivateKey privateKey = privateKey(key, owner + " key");
    requirePair(chain, privateKey, cert, key);
    identity.updateIdentityCredentials(chain, privateKey);
    return chain;
  }

  /**
   * Checks that {@code key} is the private key of the first certificate in {@code chain}: a key
   * from another pair fails every handshake, with a less helpful message.
   */
  private static void requirePair(
      X509Certificate[] chain, PrivateKey key, Path certFile, Path keyFile) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          default -> key.getAlgorithm();
        };
    byte[] probe = "kv".getBytes(StandardCharsets.US_ASCII);
    boolean pair;
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(chain[0].getPublicKey());
      verifier.update(probe);
      pair = verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      pair = false;
    }
    if (!pair) {
      throw new IllegalArgumentException(
          "the key " + keyFile + " is not the private key of the certificate " + certFile);
    }
  }

  private static byte[] read(Path file, String what) {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("cannot read " + what + " " + file + ": no such file");
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read " + what + " " + file + ": " + e.getMessage());
    }
  }
}
