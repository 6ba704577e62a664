package dev.kv.server;

import dev.kv.core.config.Secrets;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.logging.Logger;

/**
 * Token authentication: a call is served only with the header {@code authorization: Bearer TOKEN}
 * for one of the tokens in a file, one per line, so that a new token can be added before the old
 * one is removed. The file is read again when it changes.
 */
public final class BearerTokens implements ServerInterceptor {

  private static final Logger logger = Logger.getLogger(BearerTokens.class.getName());

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private static final String BEARER = "Bearer ";

  private final Path file;
  private final FileStamps stamps;
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
    List<byte[]> tokens =
        Secrets.read(file, "the token file")
            .lines()
            .map(String::strip)
            .filter(line -> !line.isEmpty())
            .map(line -> line.getBytes(StandardCharsets.UTF_8))
            .toList();
    if (tokens.isEmpty()) {
      throw new IllegalArgumentException("the token file " + file + " holds no token");
    }
    return tokens;
  }

  /** Reads the file again if it changed; a file that cannot be used leaves the last tokens. */
  void reloadIfChanged() {
    if (!stamps.changed()) {
      return;
    }
    try {
      tokens = read(file);
      logger.info(() -> "tokens reloaded from " + file);
    } catch (RuntimeException e) {
      logger.warning(
          "the token file changed but cannot be used, keeping the previous tokens: "
              + e.getMessage());
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
    } else if (!known(authorization.substring(BEARER.length()).strip())) {
      refusal = "the token is not valid for this kv-server";
    } else {
      return next.startCall(call, headers);
    }
    call.close(Status.UNAUTHENTICATED.withDescription(refusal), new Metadata());
    return new ServerCall.Listener<>() {};
  }

  /** Compares with every token, in time that does not depend on where they differ. */
  private boolean known(String presented) {
    byte[] bytes = presented.getBytes(StandardCharsets.UTF_8);
    boolean known = false;
    for (byte[] token : tokens) {
      known |= MessageDigest.isEqual(token, bytes);
    }
    return known;
  }
}
