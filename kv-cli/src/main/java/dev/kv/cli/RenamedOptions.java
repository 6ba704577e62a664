package dev.kv.cli;

import dev.kv.core.etcd.EtcdEndpoints;
import dev.kv.launch.CommandLines;
import dev.kv.launch.EtcdOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The names kv gave etcd's settings before kv and kv-server took the same ones: {@code --etcd} and
 * {@code KV_ETCD} for the endpoints, and kv-server's {@code --cacert}, {@code --cert}, {@code
 * --key} and {@code --timeout}, which applied to etcd too. For one release they still do, where the
 * new name is not given, and kv says in one line what replaces them.
 */
final class RenamedOptions {

  @Spec(Spec.Target.MIXEE)
  CommandSpec kv;

  @Option(
      names = "--etcd",
      paramLabel = "URLS",
      hidden = true,
      scope = ScopeType.INHERIT,
      defaultValue = "${env:KV_ETCD}")
  EtcdEndpoints etcd;

  /**
   * The etcd endpoints: a name on the command line wins over a variable, and the new name over the
   * old.
   */
  EtcdEndpoints endpoints(EtcdOptions options) {
    return oldEndpoints(options) == null ? options.endpoints() : etcd;
  }

  /** The old name that gives the endpoints, or null when the new one does (or none). */
  private String oldEndpoints(EtcdOptions options) {
    if (CommandLines.given(kv, "--etcd-endpoints")) {
      return null;
    }
    if (CommandLines.given(kv, "--etcd")) {
      return "--etcd";
    }
    return options.endpoints() == null && etcd != null ? "KV_ETCD" : null;
  }

  /**
   * Gives {@code options} what the old names hold where the new names are not given.
   *
   * @return the line that names what replaces the old names used, or null when none was
   */
  String fillIn(EtcdOptions options, Path caCert, Path cert, Path key, Duration timeout) {
    List<String> renames = new ArrayList<>();
    String oldEndpoints = oldEndpoints(options);
    if (oldEndpoints != null) {
      options.endpoints(etcd);
      renames.add(
          oldEndpoints.equals("--etcd")
              ? "--etcd-endpoints rather than --etcd"
              : "KV_ETCD_ENDPOINTS rather than KV_ETCD");
    }
    if (options.caCert() == null && caCert != null) {
      options.caCert(caCert);
      renames.add(rename("--cacert", "KV_CACERT"));
    }
    if (options.cert() == null && cert != null) {
      options.cert(cert);
      renames.add(rename("--cert", "KV_CERT"));
    }
    if (options.key() == null && key != null) {
      options.key(key);
      renames.add(rename("--key", "KV_KEY"));
    }
    if (!given("--etcd-timeout", "KV_ETCD_TIMEOUT") && given("--timeout", "KV_TIMEOUT")) {
      options.timeout(timeout);
      renames.add(rename("--timeout", "KV_TIMEOUT"));
    }
    return renames.isEmpty()
        ? null
        : "for etcd, give "
            + String.join(", ", renames)
            + "; the old names stop applying to etcd in the next release";
  }

  /** "NEW rather than OLD", by the option's names, or by its variable's if that is what gave it. */
  private String rename(String option, String variable) {
    return CommandLines.given(kv, option)
        ? "--etcd-" + option.substring("--".length()) + " rather than " + option
        : "KV_ETCD_" + variable.substring("KV_".length()) + " rather than " + variable;
  }

  private boolean given(String option, String variable) {
    return CommandLines.given(kv, option) || CommandLines.given(variable);
  }
}
