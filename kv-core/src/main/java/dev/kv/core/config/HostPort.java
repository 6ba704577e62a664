package dev.kv.core.config;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * A network address as users write it: {@code host:port}, {@code [ipv6]:port}.
 *
 * @param host a host name or an IP address, without brackets
 * @param port 0 to 65535; 0 asks a server for any free port
 */
public record HostPort(String host, int port) {

  public HostPort {
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("host must not be empty");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be between 0 and 65535, not " + port);
    }
  }

  /**
   * Reads {@code host:port} or {@code [ipv6]:port}.
   *
   * @throws IllegalArgumentException with a message saying what is wrong and what is expected
   */
  public static HostPort parse(String text) {
    String expected =
        "expected HOST:PORT, such as 127.0.0.1:9986 or [::1]:9986, not '" + text + "'";
    if (text == null) {
      throw new IllegalArgumentException("expected HOST:PORT");
    }
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException(expected);
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      // An IPv6 address must be bracketed, or its last group would read as the port.
      throw new IllegalArgumentException(expected);
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(expected);
    }
    if (host.isEmpty() || port < 0 || port > 65535) {
      throw new IllegalArgumentException(expected);
    }
    return new HostPort(host, port);
  }

  /** The address to bind or connect to; resolves the host name. */
  public InetSocketAddress toSocketAddress() {
    return new InetSocketAddress(host, port);
  }

  /** The address in the form {@link #parse} reads, and gRPC targets use. */
  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /** Whether the host is this machine: a loopback address, or a name that resolves to one. */
  public boolean isLoopback() {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
