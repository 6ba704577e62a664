package dev.kv.core.etcd;

import dev.kv.core.config.HostPort;
import java.util.ArrayList;
import java.util.List;

/**
 * The client URLs of an etcd cluster's members, as users list them: {@code
 * http://127.0.0.1:2379,http://127.0.0.1:22379}.
 *
 * @param members one address per member, in the order given
 */
public record EtcdEndpoints(List<HostPort> members) {

  public EtcdEndpoints {
    members = List.copyOf(members);
    if (members.isEmpty()) {
      throw new IllegalArgumentException("at least one etcd endpoint is needed");
    }
  }

  /**
   * Reads a comma-separated list of URLs; {@code http://} may be left out.
   *
   * @throws IllegalArgumentException with a message saying what is wrong and what is expected
   */
  public static EtcdEndpoints parse(String text) {
    List<HostPort> members = new ArrayList<>();
    for (String endpoint : text == null ? new String[0] : text.split(",")) {
      String url = endpoint.trim();
      if (url.isEmpty()) {
        continue;
      }
      if (url.startsWith("https://")) {
        throw new IllegalArgumentException(
            "'" + url + "': https endpoints need TLS, which kv does not support yet");
      }
      String address = url.startsWith("http://") ? url.substring("http://".length()) : url;
      if (address.endsWith("/")) {
        address = address.substring(0, address.length() - 1);
      }
      try {
        members.add(HostPort.parse(address));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "expected etcd endpoints such as http://127.0.0.1:2379,http://127.0.0.1:22379, not '"
                + text
                + "'");
      }
    }
    if (members.isEmpty()) {
      throw new IllegalArgumentException(
          "expected etcd endpoints such as http://127.0.0.1:2379, not '" + text + "'");
    }
    return new EtcdEndpoints(members);
  }

  /** The endpoints as {@link #parse} reads them. */
  @Override
  public String toString() {
    return String.join(",", members.stream().map(member -> "http://" + member).toList());
  }
}
