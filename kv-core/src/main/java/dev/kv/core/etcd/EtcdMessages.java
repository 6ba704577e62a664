package dev.kv.core.etcd;

import com.google.protobuf.ByteString;
import dev.kv.core.Deleted;
import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.ReadConsistency;
import dev.kv.core.Swap;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import dev.kv.etcd.api.etcdserverpb.Compare;
import dev.kv.etcd.api.etcdserverpb.DeleteRangeRequest;
import dev.kv.etcd.api.etcdserverpb.DeleteRangeResponse;
import dev.kv.etcd.api.etcdserverpb.PutRequest;
import dev.kv.etcd.api.etcdserverpb.RangeRequest;
import dev.kv.etcd.api.etcdserverpb.RangeResponse;
import dev.kv.etcd.api.etcdserverpb.RequestOp;
import dev.kv.etcd.api.etcdserverpb.TxnRequest;
import dev.kv.etcd.api.etcdserverpb.TxnResponse;
import dev.kv.etcd.api.etcdserverpb.WatchCreateRequest;
import dev.kv.etcd.api.etcdserverpb.WatchRequest;
import dev.kv.etcd.api.mvccpb.Event;
import java.util.Optional;

/**
 * The translation between the port's types and etcd's v3 messages. Keys and values travel as their
 * UTF-8 bytes; what other etcd clients wrote may not be text (see {@link #entry}).
 */
final class EtcdMessages {

  /** The smallest key: as a range start, every key; as a range end, no end. */
  static final ByteString FIRST_KEY = ByteString.copyFrom(new byte[] {0});

  private EtcdMessages() {}

  static ByteString utf8(String text) {
    return ByteString.copyFromUtf8(text);
  }

  /** etcd's end of a range: the key itself, or "\0" for no end. */
  static ByteString rangeEnd(String to) {
    return to.isEmpty() ? FIRST_KEY : utf8(to);
  }

  /** A read of one key, at the given consistency. */
  static RangeRequest get(String key, ReadConsistency consistency) {
    return RangeRequest.newBuilder()
        .setKey(utf8(key))
        .setSerializable(consistency == ReadConsistency.SERIALIZABLE)
        .build();
  }

  /**
   * The entry a read of one key found, if any.
   *
   * @throws KvException with {@link KvException.Code#FAILED_PRECONDITION} for a value that is not
   *     text, which a {@code get} would give altered
   */
  static Optional<KeyValue> firstEntry(RangeResponse response) {
    if (response.getKvsCount() == 0) {
      return Optional.empty();
    }
    KeyValue entry = entry(response.getKvs(0));
    if (!entry.isText()) {
      throw KvException.notText(entry);
    }
    return Optional.of(entry);
  }

  /** A write of {@code value} under {@code key}, held by {@code lease} (0: none). */
  static PutRequest.Builder put(String key, String value, long lease) {
    return PutRequest.newBuilder().setKey(utf8(key)).setValue(utf8(value)).setLease(lease);
  }

  static RequestOp delete(String key) {
    return RequestOp.newBuilder()
        .setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(utf8(key)))
        .build();
  }

  /**
   * One transaction: if the (valid) key's mod revision is {@code expected} (0 when absent), apply
   * {@code write}; otherwise read the key as it is.
   */
  static TxnRequest swap(String key, long expected, RequestOp write) {
    ByteString name = utf8(key);
    return TxnRequest.newBuilder()
        .addCompare(
            Compare.newBuilder()
                .setKey(name)
                .setTarget(Compare.CompareTarget.MOD)
                .setResult(Compare.CompareResult.EQUAL)
                .setModRevision(expected))
        .addSuccess(write)
        .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(name)))
        .build();
  }

  /** The outcome of a {@link #swap}: applied, or the key as it was instead. */
  static Swap swapped(TxnResponse response) {
    long revision = response.getHeader().getRevision();
    return response.getSucceeded()
        ? new Swap(true, revision, Optional.empty())
        : new Swap(
            false,
            revision,
            response.getResponses(0).getResponseRange().getKvsList().stream()
                .findFirst()
                .map(EtcdMessages::entry));
  }

  static Deleted deleted(DeleteRangeResponse response) {
    return new Deleted(response.getDeleted(), response.getHeader().getRevision());
  }

  /**
   * The Range of a listing's page: from where the page starts to where the query ends, at the
   * query's revision.
   */
  static RangeRequest list(ListQuery query) {
    return RangeRequest.newBuilder()
        .setKey(query.pageStart().isEmpty() ? FIRST_KEY : utf8(query.pageStart()))
        .setRangeEnd(rangeEnd(query.to()))
        .setKeysOnly(query.keysOnly())
        .setSerializable(query.consistency() == ReadConsistency.SERIALIZABLE)
        .setRevision(query.revision())
        .build();
  }

  /** Opens a watch of {@code query}'s keys from revision {@code from} (0: from now). */
  static WatchRequest watch(WatchQuery query, long from) {
    return WatchRequest.newBuilder()
        .setCreateRequest(
            WatchCreateRequest.newBuilder()
                .setKey(query.from().isEmpty() ? FIRST_KEY : utf8(query.from()))
                .setRangeEnd(rangeEnd(query.to()))
                .setStartRevision(from)
                // Lets a quiet watch move past revisions that are later compacted.
                .setProgressNotify(true))
        .build();
  }

  /** The change {@code event} tells, or empty for a key that no kv query can name. */
  static Optional<WatchEvent> event(Event event) {
    if (!hasTextKey(event.getKv())) {
      return Optional.empty();
    }
    return Optional.of(
        event.getType() == Event.EventType.DELETE
            ? WatchEvent.deleted(
                event.getKv().getKey().toStringUtf8(), event.getKv().getModRevision())
            : new WatchEvent(WatchEvent.Type.PUT, entry(event.getKv())));
  }

  /** Whether kv can name the key: other etcd clients may write keys that are not UTF-8 text. */
  static boolean hasTextKey(dev.kv.etcd.api.mvccpb.KeyValue stored) {
    return stored.getKey().isValidUtf8();
  }

  /**
   * An entry etcd holds under a text key: with its value as text, or as its bytes when another
   * client stored a value that is not UTF-8 text.
   */
  static KeyValue entry(dev.kv.etcd.api.mvccpb.KeyValue stored) {
    String key = stored.getKey().toStringUtf8();
    ByteString value = stored.getValue();
    return value.isValidUtf8()
        ? new KeyValue(
            key,
            value.toStringUtf8(),
            stored.getCreateRevision(),
            stored.getModRevision(),
            stored.getVersion())
        : KeyValue.binary(
            key,
            value.toByteArray(),
            stored.getCreateRevision(),
            stored.getModRevision(),
            stored.getVersion());
  }
}
