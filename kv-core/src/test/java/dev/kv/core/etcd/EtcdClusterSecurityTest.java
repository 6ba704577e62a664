package dev.kv.core.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import dev.kv.core.config.HostPort;
import dev.kv.core.tls.Certificates;
import dev.kv.etcd.api.etcdserverpb.AuthGrpc;
import dev.kv.etcd.api.etcdserverpb.AuthenticateRequest;
import dev.kv.etcd.api.etcdserverpb.KVGrpc;
import dev.kv.etcd.api.etcdserverpb.PutRequest;
import dev.kv.etcd.api.etcdserverpb.RangeRequest;
import dev.kv.etcd.api.etcdserverpb.RangeResponse;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a client of a cluster with TLS and authentication meets, on etcd's own gRPC API: which
 * connections it refuses, and the status of each authentication or permission failure.
 */
@Timeout(120)
class EtcdClusterSecurityTest {

  private static final Duration TOKEN_TTL = Duration.ofSeconds(2);
  private static final Metadata.Key<String> TOKEN =
      Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER);

  private static Certificates certificates;
  private static EtcdCluster cluster;

  private ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    certificates = Certificates.generate();
    cluster =
        EtcdCluster.ofMembers(1).withTls(certificates).withAuth("root-password", TOKEN_TTL).start();
    cluster.addUser("alice", "alice-password", "alice/");
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
    if (certificates != null) {
      certificates.close();
    }
  }

  @AfterEach
  void closeChannel() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void endpoints_areHttps() {
    assertThat(cluster.endpoints().https()).isTrue();
    assertThat(cluster.endpoints().toString()).startsWith("https://127.0.0.1:");
    assertThat(cluster.rootPassword()).isEqualTo("root-password");
  }

  @Test
  void channelsWithoutTheRightCredentials_areRefused() throws Exception {
    Map<String, ManagedChannel> refused = new LinkedHashMap<>();
    refused.put(
        "plaintext channel",
        NettyChannelBuilder.forAddress("127.0.0.1", port()).usePlaintext().build());
    refused.put(
        "TLS without a client certificate",
        tlsChannel(
            TlsChannelCredentials.newBuilder()
                .trustManager(certificates.caCert().toFile())
                .build()));
    refused.put(
        "client certificate from another CA",
        tlsChannel(
            TlsChannelCredentials.newBuilder()
                .trustManager(certificates.caCert().toFile())
                .keyManager(
                    certificates.otherClientCert().toFile(), certificates.otherClientKey().toFile())
                .build()));
    try {
      for (Map.Entry<String, ManagedChannel> each : refused.entrySet()) {
        Status status =
            failure(each.getKey(), () -> range(KVGrpc.newBlockingStub(each.getValue())));

        assertThat(status.getCode()).as(each.getKey()).isEqualTo(Status.Code.UNAVAILABLE);
      }
    } finally {
      refused.values().forEach(ManagedChannel::shutdownNow);
    }
  }

  /**
   * Without a token etcd falls back to the client certificate's common name as the user: {@code
   * kv-client}, which does not exist, so the answer is a permission error rather than a missing
   * user name.
   */
  @Test
  void range_withoutToken_isPermissionDenied() throws Exception {
    channel = trustedChannel();

    Status status = failure("Range without a token", () -> range(KVGrpc.newBlockingStub(channel)));

    assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(status.getDescription()).isEqualTo("etcdserver: permission denied");
  }

  @Test
  void range_withGarbageToken_isUnauthenticated() throws Exception {
    channel = trustedChannel();

    Status status = failure("Range with a garbage token", () -> range(withToken("not-a-token")));

    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(status.getDescription()).isEqualTo("etcdserver: invalid auth token");
  }

  @Test
  void range_withExpiredToken_isUnauthenticated() throws Exception {
    channel = trustedChannel();
    String token = authenticate("root", "root-password");

    // A simple token expires its TTL after its last use; etcd checks once a second.
    Thread.sleep(TOKEN_TTL.plusMillis(2_000).toMillis());
    Status status = failure("Range with an expired token", () -> range(withToken(token)));

    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(status.getDescription()).isEqualTo("etcdserver: invalid auth token");
  }

  @Test
  void authenticate_withWrongPassword_isInvalidArgument() throws Exception {
    channel = trustedChannel();

    Status status =
        failure("Authenticate with a wrong password", () -> authenticate("root", "wrong-password"));

    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription())
        .isEqualTo("etcdserver: authentication failed, invalid user ID or password");
  }

  @Test
  void put_outsideTheUsersPrefix_isPermissionDenied() throws Exception {
    channel = trustedChannel();
    String token = authenticate("alice", "alice-password");

    assertThatCode(() -> put(withToken(token), "alice/allowed")).doesNotThrowAnyException();
    Status status =
        failure("Put outside the user's prefix", () -> put(withToken(token), "bob/forbidden"));

    assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(status.getDescription()).isEqualTo("etcdserver: permission denied");
  }

  @Test
  void range_withFreshToken_answers() throws Exception {
    channel = trustedChannel();
    String token = authenticate("root", "root-password");

    assertThat(range(withToken(token)).getHeader().getClusterId()).isNotZero();
  }

  @Test
  void fixture_keepsWorking_acrossRestartAndExpiredTokens() throws Exception {
    cluster.stop(0);
    cluster.restart(0);
    Thread.sleep(TOKEN_TTL.plusMillis(1_000).toMillis());

    cluster.deleteAllKeys();
    assertThat(cluster.leader()).isZero();
    assertThat(new String(cluster.etcdctl("get", "--prefix", ""))).isEmpty();
  }

  /** Without a client certificate to fall back on, a missing token is a missing user name. */
  @Test
  void authWithoutTls_rangeWithoutToken_isInvalidArgument() throws Exception {
    try (EtcdCluster plaintext =
        EtcdCluster.ofMembers(1).withAuth("root-password", TOKEN_TTL).start()) {
      plaintext.deleteAllKeys();
      assertThat(plaintext.endpoints().https()).isFalse();
      HostPort member = plaintext.endpoint(0).members().get(0);
      channel = NettyChannelBuilder.forAddress(member.host(), member.port()).usePlaintext().build();

      Status status =
          failure(
              "Range without a token, without TLS", () -> range(KVGrpc.newBlockingStub(channel)));

      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(status.getDescription()).isEqualTo("etcdserver: user name is empty");
    }
  }

  private static int port() {
    return cluster.endpoint(0).members().get(0).port();
  }

  private static ManagedChannel tlsChannel(ChannelCredentials credentials) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port(), credentials).build();
  }

  private static ManagedChannel trustedChannel() throws Exception {
    return tlsChannel(
        TlsChannelCredentials.newBuilder()
            .trustManager(certificates.caCert().toFile())
            .keyManager(certificates.clientCert().toFile(), certificates.clientKey().toFile())
            .build());
  }

  private String authenticate(String name, String password) {
    return AuthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .authenticate(AuthenticateRequest.newBuilder().setName(name).setPassword(password).build())
        .getToken();
  }

  private KVGrpc.KVBlockingStub withToken(String token) {
    Metadata headers = new Metadata();
    headers.put(TOKEN, token);
    return KVGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private static RangeResponse range(KVGrpc.KVBlockingStub stub) {
    return stub.withDeadlineAfter(5, TimeUnit.SECONDS)
        .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("alice/key")).build());
  }

  private static void put(KVGrpc.KVBlockingStub stub, String key) {
    stub.withDeadlineAfter(5, TimeUnit.SECONDS)
        .put(
            PutRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8(key))
                .setValue(ByteString.copyFromUtf8("v"))
                .build());
  }

  /** The status of the failed call, printed so that a reader of the test log sees etcd's words. */
  private static Status failure(String what, Runnable call) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
    assertThat(e).as("the call should have failed").isNotNull();
    Status status = e.getStatus();
    System.out.println(
        what
            + ": "
            + status.getCode()
            + ": "
            + status.getDescription()
            + (status.getCause() == null ? "" : " (cause: " + status.getCause() + ")"));
    return status;
  }
}
