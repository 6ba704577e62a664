package dev.kv.core.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import dev.kv.etcd.api.etcdserverpb.DeleteRangeResponse;
import dev.kv.etcd.api.etcdserverpb.RangeRequest;
import dev.kv.etcd.api.etcdserverpb.RangeResponse;
import dev.kv.etcd.api.etcdserverpb.ResponseHeader;
import dev.kv.etcd.api.etcdserverpb.ResponseOp;
import dev.kv.etcd.api.etcdserverpb.TxnRequest;
import dev.kv.etcd.api.etcdserverpb.TxnResponse;
import dev.kv.etcd.api.etcdserverpb.WatchCreateRequest;
import dev.kv.etcd.api.mvccpb.Event;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EtcdMessagesTest {

  private static final ByteString NOT_UTF8 = ByteString.copyFrom(new byte[] {(byte) 0xff, 0x41});

  private static dev.kv.etcd.api.mvccpb.KeyValue stored(ByteString key, ByteString value) {
    return dev.kv.etcd.api.mvccpb.KeyValue.newBuilder()
        .setKey(key)
        .setValue(value)
        .setCreateRevision(3)
        .setModRevision(7)
        .setVersion(2)
        .build();
  }

  private static dev.kv.etcd.api.mvccpb.KeyValue stored(String key, String value) {
    return stored(ByteString.copyFromUtf8(key), ByteString.copyFromUtf8(value));
  }

  private static ResponseHeader revision(long revision) {
    return ResponseHeader.newBuilder().setRevision(revision).build();
  }

  @Test
  void entry_textValue_keepsTextAndRevisions() {
    assertThat(EtcdMessages.entry(stored("clé", "värde")))
        .isEqualTo(new KeyValue("clé", "värde", 3, 7, 2));
  }

  @Test
  void entry_valueNotText_isGivenAsItsBytes() {
    KeyValue entry = EtcdMessages.entry(stored(ByteString.copyFromUtf8("k"), NOT_UTF8));

    assertThat(entry.isText()).isFalse();
    assertThat(entry.value()).isEmpty();
    assertThat(entry.binaryValue()).isEqualTo(NOT_UTF8.toByteArray());
    assertThat(entry.modRevision()).isEqualTo(7);
  }

  @Test
  void hasTextKey_onlyForUtf8Keys() {
    assertThat(EtcdMessages.hasTextKey(stored("k", "v"))).isTrue();
    assertThat(EtcdMessages.hasTextKey(stored(NOT_UTF8, ByteString.EMPTY))).isFalse();
  }

  @Test
  void firstEntry_absent_isEmpty_text_isTheEntry() {
    assertThat(EtcdMessages.firstEntry(RangeResponse.getDefaultInstance())).isEmpty();
    assertThat(EtcdMessages.firstEntry(RangeResponse.newBuilder().addKvs(stored("k", "v")).build()))
        .contains(new KeyValue("k", "v", 3, 7, 2));
  }

  @Test
  void firstEntry_valueNotText_failsRatherThanAlterIt() {
    RangeResponse binary =
        RangeResponse.newBuilder().addKvs(stored(ByteString.copyFromUtf8("k"), NOT_UTF8)).build();

    assertThatThrownBy(() -> EtcdMessages.firstEntry(binary))
        .isInstanceOfSatisfying(
            KvException.class,
            e -> assertThat(e.code()).isEqualTo(KvException.Code.FAILED_PRECONDITION));
  }

  @Test
  void get_serializable_readsFromTheMemberAsked() {
    RangeRequest request = EtcdMessages.get("k", ReadConsistency.SERIALIZABLE);

    assertThat(request.getKey().toStringUtf8()).isEqualTo("k");
    assertThat(request.getRangeEnd()).isEmpty();
    assertThat(request.getSerializable()).isTrue();
  }

  @Test
  void put_carriesKeyValueAndLease() {
    var put = EtcdMessages.put("k", "v", 42).build();

    assertThat(put.getKey().toStringUtf8()).isEqualTo("k");
    assertThat(put.getValue().toStringUtf8()).isEqualTo("v");
    assertThat(put.getLease()).isEqualTo(42);
  }

  @Test
  void swap_comparesTheModRevision_writesOnSuccess_readsOnFailure() {
    TxnRequest txn = EtcdMessages.swap("k", 9, EtcdMessages.delete("k"));

    Compare compare = txn.getCompare(0);
    assertThat(compare.getKey().toStringUtf8()).isEqualTo("k");
    assertThat(compare.getTarget()).isEqualTo(Compare.CompareTarget.MOD);
    assertThat(compare.getResult()).isEqualTo(Compare.CompareResult.EQUAL);
    assertThat(compare.getModRevision()).isEqualTo(9);
    assertThat(txn.getSuccess(0).getRequestDeleteRange().getKey().toStringUtf8()).isEqualTo("k");
    assertThat(txn.getFailure(0).getRequestRange().getKey().toStringUtf8()).isEqualTo("k");
  }

  @Test
  void swapped_applied_hasTheRevisionAndNoCurrentEntry() {
    TxnResponse applied =
        TxnResponse.newBuilder().setSucceeded(true).setHeader(revision(12)).build();

    assertThat(EtcdMessages.swapped(applied)).isEqualTo(new Swap(true, 12, Optional.empty()));
  }

  @Test
  void swapped_notApplied_givesTheKeyAsItIs_orNoneWhenAbsent() {
    TxnResponse present =
        TxnResponse.newBuilder()
            .setHeader(revision(12))
            .addResponses(
                ResponseOp.newBuilder()
                    .setResponseRange(RangeResponse.newBuilder().addKvs(stored("k", "now"))))
            .build();
    TxnResponse absent =
        TxnResponse.newBuilder()
            .setHeader(revision(12))
            .addResponses(ResponseOp.newBuilder().setResponseRange(RangeResponse.newBuilder()))
            .build();

    assertThat(EtcdMessages.swapped(present))
        .isEqualTo(new Swap(false, 12, Optional.of(new KeyValue("k", "now", 3, 7, 2))));
    assertThat(EtcdMessages.swapped(absent)).isEqualTo(new Swap(false, 12, Optional.empty()));
  }

  @Test
  void deleted_countsAndRevision() {
    DeleteRangeResponse response =
        DeleteRangeResponse.newBuilder().setDeleted(3).setHeader(revision(20)).build();

    assertThat(EtcdMessages.deleted(response)).isEqualTo(new Deleted(3, 20));
  }

  @Test
  void rangeEnd_emptyMeansNoEnd() {
    assertThat(EtcdMessages.rangeEnd("")).isEqualTo(EtcdMessages.FIRST_KEY);
    assertThat(EtcdMessages.rangeEnd("b").toStringUtf8()).isEqualTo("b");
  }

  @Test
  void list_everyKey_fromTheFirstKeyToNoEnd() {
    RangeRequest range = EtcdMessages.list(ListQuery.prefix(""));

    assertThat(range.getKey()).isEqualTo(EtcdMessages.FIRST_KEY);
    assertThat(range.getRangeEnd()).isEqualTo(EtcdMessages.FIRST_KEY);
    assertThat(range.getKeysOnly()).isFalse();
    assertThat(range.getSerializable()).isFalse();
  }

  @Test
  void list_nextPage_startsAfterTheLastKey_keysOnly_serializable() {
    RangeRequest range =
        EtcdMessages.list(
            ListQuery.prefix("a/")
                .startAfter("a/x")
                .withoutValues()
                .consistency(ReadConsistency.SERIALIZABLE));

    assertThat(range.getKey().toStringUtf8()).isEqualTo("a/x\0");
    assertThat(range.getRangeEnd().toStringUtf8()).isEqualTo("a0");
    assertThat(range.getKeysOnly()).isTrue();
    assertThat(range.getSerializable()).isTrue();
  }

  @Test
  void watch_createsFromTheRevision_withProgressNotices() {
    WatchCreateRequest create = EtcdMessages.watch(WatchQuery.prefix("a/"), 15).getCreateRequest();

    assertThat(create.getKey().toStringUtf8()).isEqualTo("a/");
    assertThat(create.getRangeEnd().toStringUtf8()).isEqualTo("a0");
    assertThat(create.getStartRevision()).isEqualTo(15);
    assertThat(create.getProgressNotify()).isTrue();
  }

  @Test
  void watch_everyKey_fromTheFirstKeyToNoEnd() {
    WatchCreateRequest create = EtcdMessages.watch(WatchQuery.prefix(""), 0).getCreateRequest();

    assertThat(create.getKey()).isEqualTo(EtcdMessages.FIRST_KEY);
    assertThat(create.getRangeEnd()).isEqualTo(EtcdMessages.FIRST_KEY);
  }

  @Test
  void event_putAndDelete_becomeTheirWatchEvents() {
    Event put = Event.newBuilder().setType(Event.EventType.PUT).setKv(stored("k", "v")).build();
    Event delete =
        Event.newBuilder()
            .setType(Event.EventType.DELETE)
            .setKv(
                dev.kv.etcd.api.mvccpb.KeyValue.newBuilder()
                    .setKey(ByteString.copyFrom("k", StandardCharsets.UTF_8))
                    .setModRevision(8))
            .build();

    assertThat(EtcdMessages.event(put))
        .contains(new WatchEvent(WatchEvent.Type.PUT, new KeyValue("k", "v", 3, 7, 2)));
    assertThat(EtcdMessages.event(delete)).contains(WatchEvent.deleted("k", 8));
  }

  @Test
  void event_keyNotText_isLeftOut() {
    Event foreign =
        Event.newBuilder()
            .setType(Event.EventType.PUT)
            .setKv(stored(NOT_UTF8, ByteString.copyFromUtf8("v")))
            .build();

    assertThat(EtcdMessages.event(foreign)).isEmpty();
  }
}
