package dev.kv.core.remote;

import dev.kv.core.config.HostPort;
import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.Status;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/** The {@code authorization: Bearer} header kv-server checks. */
final class BearerToken extends CallCredentials {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Metadata headers = new Metadata();
  private final Map<String, Boolean> loopback = new ConcurrentHashMap<>();

  BearerToken(String token) {
    headers.put(AUTHORIZATION, "Bearer " + token);
  }

  @Override
  public void applyRequestMetadata(
      RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
    if (requestInfo.getSecurityLevel() != SecurityLevel.PRIVACY_AND_INTEGRITY
        && !isLoopback(requestInfo.getAuthority())) {
      // Whoever reads the network could use a token sent in the clear.
      applier.fail(
          Status.UNAUTHENTICATED.withDescription(
              "kv does not send a token in plaintext to another machine ("
                  + requestInfo.getAuthority()
                  + "): connect with TLS"));
      return;
    }
    applier.apply(headers);
  }

  /** Whether {@code authority} names this machine; asked once per authority. */
  private boolean isLoopback(String authority) {
    return loopback.computeIfAbsent(
        authority,
        name -> {
          try {
            return HostPort.parse(name).isLoopback();
          } catch (IllegalArgumentException e) {
            return new HostPort(name, 0).isLoopback();
          }
        });
  }
}
