package dev.kv.core.grpc;

import com.google.protobuf.ByteString;
import dev.kv.api.Consistency;
import dev.kv.api.Entry;
import dev.kv.api.GetResponse;
import dev.kv.api.ListRequest;
import dev.kv.api.ListResponse;
import dev.kv.api.WatchRequest;
import dev.kv.api.WatchResponse;
import dev.kv.core.KeyValue;
import dev.kv.core.Keys;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.ReadConsistency;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import java.util.HashMap;
import java.util.Map;

/**
 * The one translation between the {@code kv.KV} wire messages and the port's own types, used by the
 * server and by its client alike.
 */
public final class ApiMessages {

  private ApiMessages() {}

  public static ReadConsistency consistency(Consistency consistency) {
    return consistency == Consistency.SERIALIZABLE
        ? ReadConsistency.SERIALIZABLE
        : ReadConsistency.LINEARIZABLE;
  }

  public static Consistency consistency(ReadConsistency consistency) {
    return consistency == ReadConsistency.SERIALIZABLE
        ? Consistency.SERIALIZABLE
        : Consistency.LINEARIZABLE;
  }

  public static GetResponse getResponse(KeyValue entry) {
    return GetResponse.newBuilder()
        .setValue(entry.value())
        .setCreateRevision(entry.createRevision())
        .setModRevision(entry.modRevision())
        .setVersion(entry.version())
        .build();
  }

  public static KeyValue keyValue(String key, GetResponse response) {
    return new KeyValue(
        key,
        response.getValue(),
        response.getCreateRevision(),
        response.getModRevision(),
        response.getVersion());
  }

  public static Entry entry(KeyValue entry) {
    return entryBuilder(entry).build();
  }

  private static Entry.Builder entryBuilder(KeyValue entry) {
    Entry.Builder built =
        Entry.newBuilder()
            .setKey(entry.key())
            .setValue(entry.value())
            .setCreateRevision(entry.createRevision())
            .setModRevision(entry.modRevision())
            .setVersion(entry.version());
    if (!entry.isText()) {
      built.setBinaryValue(ByteString.copyFrom(entry.binaryValue()));
    }
    return built;
  }

  public static KeyValue keyValue(Entry entry) {
    return entry.getBinaryValue().isEmpty()
        ? new KeyValue(
            entry.getKey(),
            entry.getValue(),
            entry.getCreateRevision(),
            entry.getModRevision(),
            entry.getVersion())
        : KeyValue.binary(
            entry.getKey(),
            entry.getBinaryValue().toByteArray(),
            entry.getCreateRevision(),
            entry.getModRevision(),
            entry.getVersion());
  }

  /**
   * The query a request asks for.
   *
   * @throws KvException with {@link KvException.Code#INVALID_ARGUMENT} for a prefix and a range
   *     together, or a limit or byte budget out of range
   */
  public static ListQuery query(ListRequest request) {
    boolean range = !request.getRangeStart().isEmpty() || !request.getRangeEnd().isEmpty();
    if (range && !request.getPrefix().isEmpty()) {
      throw new KvException(
          KvException.Code.INVALID_ARGUMENT, "list by prefix or by range, not both");
    }
    ListQuery query =
        range
            ? ListQuery.range(request.getRangeStart(), request.getRangeEnd())
            : ListQuery.prefix(request.getPrefix());
    query =
        query
            .limit(request.getLimit() == 0 ? ListQuery.DEFAULT_LIMIT : request.getLimit())
            .maxBytes(request.getMaxBytes() == 0 ? ListQuery.MAX_BYTES : request.getMaxBytes())
            .startAfter(request.getStartAfter())
            .consistency(consistency(request.getConsistency()))
            .atRevision(request.getRevision());
    if (request.getWithTtl()) {
      query = query.withTtl();
    }
    return request.getKeysOnly() ? query.withoutValues() : query;
  }

  public static ListRequest request(ListQuery query) {
    return ListRequest.newBuilder()
        .setRangeStart(query.from())
        .setRangeEnd(query.to())
        .setLimit(query.limit())
        .setMaxBytes(query.maxBytes())
        .setStartAfter(query.startAfter())
        .setKeysOnly(query.keysOnly())
        .setConsistency(consistency(query.consistency()))
        .setRevision(query.revision())
        .setWithTtl(query.includeTtl())
        .build();
  }

  /** The watch a request asks for. */
  public static WatchQuery query(WatchRequest request) {
    WatchQuery query =
        request.getPrefix()
            ? WatchQuery.prefix(request.getKey())
            : WatchQuery.key(request.getKey());
    return query.fromRevision(request.getStartRevision());
  }

  /**
   * The request for {@code query}, which must watch one key or one prefix: the wire has no other.
   */
  public static WatchRequest request(WatchQuery query) {
    WatchRequest.Builder request =
        WatchRequest.newBuilder().setKey(query.from()).setStartRevision(query.startRevision());
    if (query.to().equals(query.from() + '\u0000')) {
      return request.build();
    }
    if (query.to().equals(Keys.prefixEnd(query.from()))) {
      return request.setPrefix(true).build();
    }
    throw new KvException(
        KvException.Code.INVALID_ARGUMENT, "a remote watch takes one key or one prefix");
  }

  public static WatchResponse response(WatchEvent event) {
    return WatchResponse.newBuilder()
        .setType(
            event.type() == WatchEvent.Type.DELETE
                ? WatchResponse.Type.DELETE
                : WatchResponse.Type.PUT)
        .setEntry(entry(event.entry()))
        .build();
  }

  public static WatchEvent event(WatchResponse response) {
    return response.getType() == WatchResponse.Type.DELETE
        ? WatchEvent.deleted(response.getEntry().getKey(), response.getEntry().getModRevision())
        : new WatchEvent(WatchEvent.Type.PUT, keyValue(response.getEntry()));
  }

  public static ListResponse response(Page page) {
    ListResponse.Builder response =
        ListResponse.newBuilder().setMore(page.more()).setRevision(page.revision());
    page.entries()
        .forEach(
            entry ->
                response.addEntries(
                    entryBuilder(entry).setTtlSeconds(page.ttlSeconds(entry.key()))));
    return response.build();
  }

  public static Page page(ListResponse response) {
    Map<String, Long> ttlSeconds = new HashMap<>();
    for (Entry entry : response.getEntriesList()) {
      if (entry.getTtlSeconds() > 0) {
        ttlSeconds.put(entry.getKey(), entry.getTtlSeconds());
      }
    }
    return new Page(
        response.getEntriesList().stream().map(ApiMessages::keyValue).toList(),
        response.getMore(),
        response.getRevision(),
        ttlSeconds);
  }
}
