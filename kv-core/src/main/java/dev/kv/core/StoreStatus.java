package dev.kv.core;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What a store says of itself, for an operator: {@link KvStore#status()}.
 *
 * @param kind the kind of store, such as {@code memory}, {@code embedded} or {@code etcd}; through
 *     kv-server, the kind of the server's store
 * @param revision the store's current revision; 0 when no etcd member answered
 * @param members on etcd, each configured member as it answered, in the order configured; empty for
 *     other stores
 * @param cache the read cache in front of the store, if there is one
 * @param server the kv-server in between, for a store reached through one
 */
public record StoreStatus(
    String kind,
    long revision,
    List<Member> members,
    Optional<Cache> cache,
    Optional<Server> server) {

  public StoreStatus {
    Objects.requireNonNull(kind, "kind");
    members = List.copyOf(members);
    Objects.requireNonNull(cache, "cache");
    Objects.requireNonNull(server, "server");
  }

  /** A store with nothing to say beyond its kind and revision. */
  public StoreStatus(String kind, long revision) {
    this(kind, revision, List.of(), Optional.empty(), Optional.empty());
  }

  /** The status of {@code store}, of {@code kind}, at the revision of a one-key listing. */
  public static CompletableFuture<StoreStatus> read(String kind, KvStore store) {
    return store
        .list(ListQuery.prefix("").limit(1).withoutValues())
        .thenApply(page -> new StoreStatus(kind, page.revision()));
  }

  /** This status, with the read cache in front of the store. */
  public StoreStatus withCache(Cache cache) {
    return new StoreStatus(kind, revision, members, Optional.of(cache), server);
  }

  /** This status, as told by the kv-server in between. */
  public StoreStatus withServer(Server server) {
    return new StoreStatus(kind, revision, members, cache, Optional.of(server));
  }

  /**
   * An etcd member, as its Maintenance.Status answers (what {@code etcdctl endpoint status} shows).
   *
   * @param endpoint the client URL it is reached at
   * @param error why it did not answer; the other fields are then 0, empty or false
   */
  public record Member(
      String endpoint,
      Optional<String> error,
      long id,
      String version,
      boolean leader,
      long dbSizeBytes,
      long raftIndex,
      long raftTerm,
      boolean learner) {

    public Member {
      Objects.requireNonNull(endpoint, "endpoint");
      Objects.requireNonNull(error, "error");
      Objects.requireNonNull(version, "version");
    }

    /** A member that did not answer. */
    public static Member unreachable(String endpoint, String error) {
      return new Member(endpoint, Optional.of(error), 0, "", false, 0, 0, 0, false);
    }
  }

  /**
   * A read cache: {@link dev.kv.core.cache.ReadCache}.
   *
   * @param hits serializable reads answered from memory since the cache was made
   * @param misses serializable reads that went to the store meanwhile
   * @param live whether the cache answers reads now
   */
  public record Cache(long size, long capacity, long hits, long misses, boolean live) {

    /** The share of serializable reads answered from memory, 0 to 1; empty before any. */
    public Optional<Double> hitRatio() {
      long reads = hits + misses;
      return reads == 0 ? Optional.empty() : Optional.of((double) hits / reads);
    }
  }

  /**
   * The kv-server a remote store reaches.
   *
   * @param serving whether it takes calls: its store answers its health checks
   */
  public record Server(String version, boolean serving, Duration uptime) {

    public Server {
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(uptime, "uptime");
    }
  }
}
