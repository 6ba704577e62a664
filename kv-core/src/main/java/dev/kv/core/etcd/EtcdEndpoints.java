package dev.kv.core.etcd;

import dev.kv.core.config.HostPort;
import java.util.ArrayList;
import java.util.List;

/**
 * The client URLs of an etcd cluster's members, as users list them: {@code
 * http://127.0.0.1:2379,http://127.0.0.1:22379}, or {@code https://} for members that serve TLS.
 *
 * @param members one address per member, in the order given
 * @param https whether the members serve TLS (all of them, or none)
 */
public record EtcdEndpoints(List<HostPort> members, boolean https) {

  public EtcdEndpoints {
    members = List.copyOf(members);
    if (members.isEmpty()) {
      throw new IllegalArgumentException("at least one etcd endpoint is needed");
    }
  }

  /** Members that serve plaintext: {@code http://}. */
  public EtcdEndpoints(List<HostPort> members) {
    this(members, false);
  }

  /**
   * Reads a comma-separated list of URLs; {@code http://} may be left out.
   *
   * @throws IllegalArgumentException with a message saying what is wrong and what is expected
   */
  public static EtcdEndpoints parse(String text) {
    List<HostPort> members = new ArrayList<>();
    Boolean https = null;
    for (String endpoint : text == null ? new String[0] : text.split(",")) {
      String url = endpoint.trim();
      if (url.isEmpty()) {
        continue;
      }
      boolean secure = url.startsWith("https://");
      if (https != null && https != secure) {
        throw new IllegalArgumentException(
            "etcd endpoints mix http:// and https:// ('"
                + text
                + "'): the members of a cluster serve either TLS or plaintext, all alike");
      }
      https = secure;
      String address = url.replaceFirst("^https?://", "");
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
    return new EtcdEndpoints(members, https);
  }

  /** The endpoints as {@link #parse} reads them. */
  @Override
  public String toString() {
    String scheme = https ? "https://" : "http://";
    return String.join(",", members.stream().map(member -> scheme + member).toList());
  }
}
