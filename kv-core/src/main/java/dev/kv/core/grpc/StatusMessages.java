package dev.kv.core.grpc;

import dev.kv.api.EtcdMemberStatus;
import dev.kv.api.ReadCacheStatus;
import dev.kv.api.StatusResponse;
import dev.kv.core.StoreStatus;
import java.time.Duration;
import java.util.Optional;

/** The status call's answer, to and from {@link StoreStatus}: kv.KV's Status. */
public final class StatusMessages {

  private StatusMessages() {}

  /** What kv-server answers: its store's status, and its own. */
  public static StatusResponse response(StoreStatus status, StoreStatus.Server server) {
    StatusResponse.Builder response =
        StatusResponse.newBuilder()
            .setServerVersion(server.version())
            .setServing(server.serving())
            .setUptimeSeconds(server.uptime().toSeconds())
            .setStore(status.kind())
            .setRevision(status.revision());
    status.members().forEach(member -> response.addMembers(member(member)));
    status.cache().ifPresent(cache -> response.setReadCache(cache(cache)));
    return response.build();
  }

  /** What a remote store answers: the server's store, with the server. */
  public static StoreStatus status(StatusResponse response) {
    return new StoreStatus(
            response.getStore(),
            response.getRevision(),
            response.getMembersList().stream().map(StatusMessages::member).toList(),
            response.hasReadCache()
                ? Optional.of(cache(response.getReadCache()))
                : Optional.empty(),
            Optional.empty())
        .withServer(
            new StoreStatus.Server(
                response.getServerVersion(),
                response.getServing(),
                Duration.ofSeconds(response.getUptimeSeconds())));
  }

  private static EtcdMemberStatus member(StoreStatus.Member member) {
    EtcdMemberStatus.Builder message =
        EtcdMemberStatus.newBuilder()
            .setEndpoint(member.endpoint())
            .setId(member.id())
            .setVersion(member.version())
            .setLeader(member.leader())
            .setDbSizeBytes(member.dbSizeBytes())
            .setRaftIndex(member.raftIndex())
            .setRaftTerm(member.raftTerm())
            .setLearner(member.learner());
    member.error().ifPresent(message::setError);
    return message.build();
  }

  private static StoreStatus.Member member(EtcdMemberStatus member) {
    return new StoreStatus.Member(
        member.getEndpoint(),
        member.getError().isEmpty() ? Optional.empty() : Optional.of(member.getError()),
        member.getId(),
        member.getVersion(),
        member.getLeader(),
        member.getDbSizeBytes(),
        member.getRaftIndex(),
        member.getRaftTerm(),
        member.getLearner());
  }

  private static ReadCacheStatus cache(StoreStatus.Cache cache) {
    return ReadCacheStatus.newBuilder()
        .setSize(cache.size())
        .setCapacity(cache.capacity())
        .setHits(cache.hits())
        .setMisses(cache.misses())
        .setLive(cache.live())
        .build();
  }

  private static StoreStatus.Cache cache(ReadCacheStatus cache) {
    return new StoreStatus.Cache(
        cache.getSize(), cache.getCapacity(), cache.getHits(), cache.getMisses(), cache.getLive());
  }
}
