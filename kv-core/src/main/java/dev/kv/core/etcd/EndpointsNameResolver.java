package dev.kv.core.etcd;

import io.grpc.Attributes;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;

/**
 * Gives a channel every etcd member's address at once, so that its load balancer spreads calls over
 * the members and moves away from one that goes away.
 */
final class EndpointsNameResolver extends NameResolver {

  static final String SCHEME = "kv-etcd";

  private final List<EquivalentAddressGroup> addresses;
  private final String authority;

  private EndpointsNameResolver(
      EtcdEndpoints endpoints, String authority, boolean authorityPerMember) {
    this.addresses =
        endpoints.members().stream()
            .map(
                member ->
                    new EquivalentAddressGroup(
                        new InetSocketAddress(member.host(), member.port()),
                        authorityPerMember
                            ? Attributes.newBuilder()
                                .set(
                                    EquivalentAddressGroup.ATTR_AUTHORITY_OVERRIDE,
                                    member.toString())
                                .build()
                            : Attributes.EMPTY))
            .toList();
    this.authority = authority;
  }

  /**
   * A factory for channels whose target is {@code kv-etcd:///}.
   *
   * @param authorityPerMember whether each member is called by its own name, as TLS checks it
   *     against the member's certificate, rather than by {@code authority}
   */
  static NameResolver.Factory factory(
      EtcdEndpoints endpoints, String authority, boolean authorityPerMember) {
    return new NameResolver.Factory() {
      @Override
      public NameResolver newNameResolver(URI target, NameResolver.Args args) {
        return SCHEME.equals(target.getScheme())
            ? new EndpointsNameResolver(endpoints, authority, authorityPerMember)
            : null;
      }

      @Override
      public String getDefaultScheme() {
        return SCHEME;
      }
    };
  }

  @Override
  public String getServiceAuthority() {
    return authority;
  }

  @Override
  public void start(Listener2 listener) {
    listener.onResult(
        ResolutionResult.newBuilder()
            .setAddressesOrError(io.grpc.StatusOr.fromValue(addresses))
            .build());
  }

  /** The addresses never change; the load balancer reconnects to them by itself. */
  @Override
  public void refresh() {}

  @Override
  public void shutdown() {}
}
