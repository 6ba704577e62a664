package dev.kv.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class UnknownArgumentsTest {

  @Test
  void anUnknownOption_isNamed_withoutWhatFollowsIt() {
    assertThat(UnknownArguments.describe(List.of("--etcd-password", "hunter2")))
        .isEqualTo("unknown option '--etcd-password'");
    assertThat(UnknownArguments.describe(List.of("--etcd-password=hunter2")))
        .isEqualTo("unknown option '--etcd-password'");
    assertThat(UnknownArguments.describe(List.of("extra", "-x"))).isEqualTo("unknown option '-x'");
  }

  @Test
  void withoutAnOption_theFirstUnexpectedArgumentIsNamed() {
    assertThat(UnknownArguments.describe(List.of("b", "c"))).isEqualTo("unexpected argument 'b'");
  }
}
