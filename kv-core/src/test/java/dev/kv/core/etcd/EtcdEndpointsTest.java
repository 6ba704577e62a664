package dev.kv.core.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kv.core.config.HostPort;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EtcdEndpointsTest {

  @Test
  void parse_readsEveryMemberInOrder() {
    EtcdEndpoints endpoints =
        EtcdEndpoints.parse("http://127.0.0.1:2379, http://127.0.0.1:22379/,[::1]:32379");

    assertThat(endpoints.members())
        .containsExactly(
            new HostPort("127.0.0.1", 2379),
            new HostPort("127.0.0.1", 22379),
            new HostPort("::1", 32379));
    assertThat(endpoints.toString())
        .isEqualTo("http://127.0.0.1:2379,http://127.0.0.1:22379,http://[::1]:32379");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ",", "http://127.0.0.1", "etcd", "http://:2379"})
  void parse_invalidList_saysWhatIsExpected(String text) {
    assertThatThrownBy(() -> EtcdEndpoints.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected etcd endpoints such as http://127.0.0.1:2379");
  }

  @Test
  void parse_https_marksTheMembersAsServingTls() {
    EtcdEndpoints endpoints = EtcdEndpoints.parse("https://etcd-0:2379,https://etcd-1:2379");

    assertThat(endpoints.https()).isTrue();
    assertThat(endpoints.toString()).isEqualTo("https://etcd-0:2379,https://etcd-1:2379");
    assertThat(EtcdEndpoints.parse("127.0.0.1:2379").https()).isFalse();
  }

  @Test
  void parse_mixedSchemes_isRefused() {
    assertThatThrownBy(() -> EtcdEndpoints.parse("https://etcd-0:2379,http://etcd-1:2379"))
        .hasMessageContaining("mix http:// and https://");
  }

  @Test
  void endpoints_mustNotBeEmpty() {
    assertThatThrownBy(() -> new EtcdEndpoints(List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
