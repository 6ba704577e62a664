package dev.kv.core.etcd;

import static dev.kv.core.KvFailureAssert.assertThatKvException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.KvStoreContract;
import dev.kv.core.RecordingListener;
import dev.kv.core.Watch;
import dev.kv.core.WatchQuery;
import dev.kv.core.tls.Certificates;
import dev.kv.core.tls.ClientTls;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The etcd adapter against a real etcd member that serves mutual TLS only and has authentication
 * enabled, with tokens that expire after 2 seconds without a call: the whole contract, and what
 * only such a cluster can show.
 */
class SecureEtcdStoreTest extends KvStoreContract {

  private static final Duration TOKEN_TTL = Duration.ofSeconds(2);

  private static final Certificates certificates = Certificates.generate();

  @RegisterExtension
  static final EtcdCluster etcd =
      EtcdCluster.ofMembers(1).withTls(certificates).withAuth("root-secret", TOKEN_TTL);

  @AfterAll
  static void removeCertificates() {
    certificates.close();
  }

  private static ClientTls clientTls() {
    return new ClientTls(
        certificates.caCert(), certificates.clientCert(), certificates.clientKey());
  }

  private static EtcdStoreBuilder secureStore() {
    return EtcdStore.builder()
        .endpoints(etcd.endpoints())
        .timeout(Duration.ofSeconds(30))
        .tls(clientTls());
  }

  @Override
  protected KvStore newStore() {
    etcd.deleteAllKeys();
    return secureStore().user("root", "root-secret").build();
  }

  /** Longer than etcd needs to drop a token unused for its TTL (it checks every second). */
  private static void letTheTokenExpire() throws InterruptedException {
    Thread.sleep(TOKEN_TTL.plusSeconds(2).toMillis());
  }

  @Test
  void expiredToken_isRenewedByItself_forReadsAndWrites() throws Exception {
    store.blocking().set("before", "1");
    letTheTokenExpire();

    store.blocking().set("after", "2");
    letTheTokenExpire();

    assertThat(store.blocking().get("after")).contains("2");
    assertThat(store.blocking().get("before")).contains("1");
  }

  @Test
  void expiredToken_isRenewedByItself_forANewWatch() throws Exception {
    store.blocking().set("seen", "0");
    letTheTokenExpire();

    RecordingListener listener = new RecordingListener();
    try (Watch watch = store.watch(WatchQuery.key("seen"), listener)) {
      watch.started().get(30, java.util.concurrent.TimeUnit.SECONDS);
      store.blocking().set("seen", "1");

      assertThat(listener.next(1, Duration.ofSeconds(30)).get(0).entry().value()).isEqualTo("1");
    }
  }

  @Test
  void wrongPassword_isUnauthenticated_andNeverQuoted() {
    try (KvStore wrong = secureStore().user("root", "not-the-password").build()) {
      assertThatKvException(catchThrowable(() -> wrong.blocking().get("any")))
          .hasCode(KvException.Code.UNAUTHENTICATED)
          .hasMessageContaining("refused user 'root'")
          .hasMessageContaining("invalid user ID or password")
          .hasMessageNotContaining("not-the-password");
    }
  }

  @SuppressWarnings("try") // the watch is opened for its error only
  @Test
  void userWithoutAccess_isPermissionDenied_forCallsAndWatches() throws Exception {
    etcd.addUser("alice", "alice-secret", "alice/");
    try (KvStore alice = secureStore().user("alice", "alice-secret").build()) {
      alice.blocking().set("alice/own", "yes");
      assertThat(alice.blocking().get("alice/own")).contains("yes");

      // The health check reads a key outside alice's prefix: the cluster answered all the same.
      alice.checkHealth().get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThatKvException(catchThrowable(() -> alice.blocking().set("bob/other", "no")))
          .hasCode(KvException.Code.PERMISSION_DENIED);
      RecordingListener listener = new RecordingListener();
      try (Watch ignored = alice.watch(WatchQuery.prefix("bob/"), listener)) {
        assertThat(listener.error().get(60, java.util.concurrent.TimeUnit.SECONDS).code())
            .isEqualTo(KvException.Code.PERMISSION_DENIED);
      }
    }
  }

  @Test
  void untrustedMembers_failWithWhatIsWrong() {
    ClientTls otherCa =
        new ClientTls(
            certificates.otherCaCert(), certificates.clientCert(), certificates.clientKey());
    try (KvStore store =
        EtcdStore.builder().endpoints(etcd.endpoints()).tls(otherCa).user("root", "x").build()) {
      assertThatThrownBy(() -> store.blocking().get("any"))
          .hasMessageContaining("TLS with etcd at " + etcd.endpoints())
          .hasMessageContaining("not signed by a trusted CA");
    }
  }

  @Test
  void withoutAClientCertificate_theMembersRefuseTheHandshake() {
    try (KvStore store =
        EtcdStore.builder()
            .endpoints(etcd.endpoints())
            .tls(ClientTls.trusting(certificates.caCert()))
            .user("root", "root-secret")
            .build()) {
      assertThatThrownBy(() -> store.blocking().get("any"))
          .hasMessageContaining("refused this client's certificate, or wants one");
    }
  }

  @Test
  void plaintextEndpoints_withTlsFiles_areRefusedBeforeAnyCall() {
    EtcdEndpoints plaintext = new EtcdEndpoints(etcd.endpoints().members());

    assertThatThrownBy(() -> EtcdStore.builder().endpoints(plaintext).tls(clientTls()).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("use https:// endpoints");
  }
}
