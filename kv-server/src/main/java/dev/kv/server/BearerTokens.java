package dev.kv.server;

import dev.kv.launch.Secrets;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Token authentication: a call is served only with the header {@code authorization: Bearer TOKEN}
 * for one of the tokens in a file, one per line, so that a new token can be added before the old
 * one is removed. The file is read again when it changes; calls in progress with a token it no
 * longer holds, watches included, then end with {@code UNAUTHENTICATED}.
 */
public final class BearerTokens implements ServerInterceptor {

  private static final Logger logger = Logger.getLogger(BearerTokens.class.getName());

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private static final String BEARER = "Bearer ";

  private static final Status REVOKED =
      Status.UNAUTHENTICATED.withDescription(
          "the token of this call was revoked: kv-server's token file no longer holds it");

  private final Path file;
  private final FileStamps stamps;

  /** The calls in progress with a token, to end when their token is removed. */
  private final Set<RevocableCall<?, ?>> open = ConcurrentHashMap.newKeySet();

  /** The SHA-256 digests of the tokens. */
  private volatile List<byte[]> tokens;

  /**
   * Reads the tokens in {@code file} now.
   *
   * @throws IllegalArgumentException when it cannot be read or holds no token
   */
  public BearerTokens(Path file) {
    this.file = file;
    this.stamps = new FileStamps(List.of(file));
    this.tokens = read(file);
  }

  private static List<byte[]> read(Path file) {
    List<byte[]> tokens = new ArrayList<>();
    int number = 0;
    for (String line : Secrets.read(file, "the token file").lines().toList()) {
      number++;
      String token = line.strip();
      if (token.isEmpty()) {
        continue;
      }
      if (!token.chars().allMatch(c -> c > ' ' && c < 0x7f)) {
        throw new IllegalArgumentException(
            "line "
                + number
                + " of the token file "
                + file
                + " is not one word of printable ASCII,"
                + " as a header carries it");
      }
      tokens.add(digest(token.getBytes(StandardCharsets.US_ASCII)));
    }
    if (tokens.isEmpty()) {
      throw new IllegalArgumentException("the token file " + file + " holds no token");
    }
    return tokens;
  }

  /**
   * Reads the file again if it changed, and ends the calls in progress whose token it no longer
   * holds. A file removed or emptied refuses every call from then on, as an operator who empties it
   * means; one that cannot be read leaves the last tokens.
   */
  void reloadIfChanged() {
    if (!stamps.changed()) {
      return;
    }
    reload();
    endCallsOfRemovedTokens();
  }

  private void reload() {
    try {
      tokens = read(file);
      logger.info(() -> "tokens reloaded from " + file);
    } catch (IllegalArgumentException e) {
      if (Files.isReadable(file) && !isEmpty(file)) {
        logger.warning(
            "the token file changed but cannot be used, keeping the previous tokens: "
                + e.getMessage());
      } else {
        tokens = List.of();
        logger.severe(
            "the token file "
                + file
                + " is gone or empty: every call is refused until it holds a"
                + " token");
      }
    }
  }

  private static boolean isEmpty(Path file) {
    try {
      return Files.readString(file).isBlank();
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String authorization = headers.get(AUTHORIZATION);
    String refusal;
    if (authorization == null) {
      refusal = "this kv-server needs a token: send the header 'authorization: Bearer TOKEN'";
    } else if (!authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      refusal = "the authorization header must be 'Bearer TOKEN'";
    } else {
      byte[] token =
          digest(authorization.substring(BEARER.length()).strip().getBytes(StandardCharsets.UTF_8));
      RevocableCall<ReqT, RespT> revocable = new RevocableCall<>(call, token);
      // Open before the check, so that a reload either sees this call or is seen by the check.
      open.add(revocable);
      if (known(token)) {
        try {
          return revocable.listen(next.startCall(revocable, headers), () -> open.remove(revocable));
        } catch (RuntimeException e) {
          open.remove(revocable);
          throw e;
        }
      }
      open.remove(revocable);
      refusal = "the token is not valid for this kv-server";
    }
    call.close(Status.UNAUTHENTICATED.withDescription(refusal), new Metadata());
    return new ServerCall.Listener<>() {};
  }

  /** Ends the calls in progress, watches included, whose token is no longer in the file. */
  private void endCallsOfRemovedTokens() {
    int ended = 0;
    for (RevocableCall<?, ?> call : open) {
      if (!known(call.token) && call.revoke(REVOKED)) {
        ended++;
      }
    }
    if (ended > 0) {
      int count = ended;
      logger.info(() -> "ended " + count + " calls in progress whose token was removed");
    }
  }

  /**
   * Compares with every token, by their digests: in a time that tells nothing of where they differ,
   * nor of their lengths.
   */
  private boolean known(byte[] digest) {
    boolean known = false;
    for (byte[] token : tokens) {
      known |= MessageDigest.isEqual(token, digest);
    }
    return known;
  }

  private static byte[] digest(byte[] token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-256", e);
    }
  }
}
