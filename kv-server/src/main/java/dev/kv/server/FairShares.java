package dev.kv.server;

import dev.kv.launch.Sizes;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.ServerTransportFilter;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Splits the server's calls in progress, its calls to the services that need no token, and its
 * bytes of requests in progress, so that no one connection, and no one client address, can hold all
 * of any of them: each connection gets {@link Limits#maxSharePerConnection()} percent, and the
 * connections from one address together {@link Limits#maxSharePerAddress()} percent.
 *
 * <p>As a transport filter, it gives each connection its shares when the connection is ready, in
 * the attributes that its calls carry, and forgets an address once its last connection ends.
 */
final class FairShares extends ServerTransportFilter {

  private static final Attributes.Key<Holdings> HOLDINGS =
      Attributes.Key.create("kv-server shares of a connection");

  private static final String RETRY = "; retry later";

  private final Limits limits;
  private final Holdings server;
  private final Map<Object, Address> addresses = new ConcurrentHashMap<>();

  FairShares(Limits limits) {
    this.limits = limits;
    this.server =
        new Holdings(
            Share.ofServer(limits.maxCalls(), Long::toString, "calls in progress", RETRY),
            Share.ofServer(
                limits.maxUnauthenticatedCalls(),
                Long::toString,
                "calls to health checks and reflection",
                RETRY),
            Share.ofServer(
                limits.maxBytesInProgress(), Sizes::format, "of requests in progress", RETRY));
  }

  /**
   * What one connection, or one client address, or the whole server holds: calls in progress, calls
   * to the services that need no token, and bytes of requests in progress.
   */
  record Holdings(Share calls, Share unauthenticatedCalls, Share bytesInProgress) {
    Holdings part(String holder, int percent) {
      return new Holdings(
          calls.part(holder, percent),
          unauthenticatedCalls.part(holder, percent),
          bytesInProgress.part(holder, percent));
    }
  }

  /** The connections from one address, and what they hold together. */
  private static final class Address {
    final Holdings holdings;
    int connections;

    Address(Holdings holdings) {
      this.holdings = holdings;
    }
  }

  /** What the whole server holds. */
  Holdings server() {
    return server;
  }

  /**
   * The shares of the connection that a call or stream with these transport attributes came on; the
   * server's own for a transport that this filter did not see.
   */
  Holdings of(Attributes attributes) {
    Holdings holdings = attributes.get(HOLDINGS);
    return holdings == null ? server : holdings;
  }

  @Override
  public Attributes transportReady(Attributes attributes) {
    Address address =
        addresses.compute(
            addressOf(attributes),
            (key, known) -> {
              Address counted =
                  known != null
                      ? known
                      : new Address(
                          server.part("this client address", limits.maxSharePerAddress()));
              counted.connections++;
              return counted;
            });
    Holdings connection = address.holdings.part("this connection", limits.maxSharePerConnection());
    return attributes.toBuilder().set(HOLDINGS, connection).build();
  }

  @Override
  public void transportTerminated(Attributes attributes) {
    if (attributes != null && attributes.get(HOLDINGS) != null) {
      addresses.computeIfPresent(
          addressOf(attributes), (key, known) -> --known.connections == 0 ? null : known);
    }
  }

  /** The client's address without its port; any other kind of address, as it is. */
  private static Object addressOf(Attributes attributes) {
    SocketAddress remote = attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    return remote instanceof InetSocketAddress inet && inet.getAddress() != null
        ? inet.getAddress()
        : String.valueOf(remote);
  }
}
