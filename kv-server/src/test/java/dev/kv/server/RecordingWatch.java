package dev.kv.server;

import dev.kv.core.KvException;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.remote.RemoteStore;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A watch that keeps what it was given. */
final class RecordingWatch implements WatchListener {
  final WatchQuery query;
  final List<WatchEvent> events = new ArrayList<>();
  final List<KvException> errors = new ArrayList<>();
  long interruptions;
  Watch watch;

  private RecordingWatch(WatchQuery query) {
    this.query = query;
  }

  static RecordingWatch open(RemoteStore store, WatchQuery query) {
    RecordingWatch recording = new RecordingWatch(query);
    recording.watch = store.watch(query, recording);
    return recording;
  }

  @Override
  public synchronized void onEvent(WatchEvent event) {
    events.add(event);
  }

  @Override
  public synchronized void onError(KvException error) {
    errors.add(error);
  }

  @Override
  public synchronized void onInterrupted() {
    interruptions++;
  }

  synchronized List<WatchEvent> events() {
    return List.copyOf(events);
  }

  synchronized List<KvException> errors() {
    return List.copyOf(errors);
  }

  synchronized long interruptions() {
    return interruptions;
  }

  synchronized long delivered() {
    return events.size();
  }

  synchronized long lastRevision() {
    return events.isEmpty() ? 0 : events.get(events.size() - 1).revision();
  }

  /**
   * Checks that this watch delivered each acknowledged write to the keys of {@code ledgers} at its
   * revision, in revision order, once, and nothing that was refused or never written.
   */
  void checkDelivered(Map<String, KeyLedger> ledgers, List<String> problems) {
    Set<String> seen = new HashSet<>();
    long previous = 0;
    for (WatchEvent event : events()) {
      String key = event.entry().key();
      String value = event.entry().value();
      KeyLedger ledger = ledgers.get(key);
      if (event.revision() <= previous) {
        problems.add(
            "the watch on " + query + " got revision " + event.revision() + " after " + previous);
      }
      previous = event.revision();
      if (ledger == null || event.type() != WatchEvent.Type.PUT) {
        problems.add("the watch on " + query + " got " + event + ", never written");
      } else if (!seen.add(value)) {
        problems.add("the watch on " + query + " got " + value + " twice");
      } else if (ledger.acked.containsKey(value)) {
        if (ledger.acked.get(value) != event.revision()) {
          problems.add(
              "the watch on "
                  + query
                  + " got "
                  + value
                  + " at revision "
                  + event.revision()
                  + ", acknowledged at "
                  + ledger.acked.get(value));
        }
      } else if (!ledger.unknown.contains(value)) {
        problems.add(
            "the watch on "
                + query
                + " got "
                + value
                + (ledger.refused.contains(value) ? ", which was refused" : ", never written"));
      }
    }
    for (Map.Entry<String, KeyLedger> entry : ledgers.entrySet()) {
      for (Map.Entry<String, Long> acked : entry.getValue().acked.entrySet()) {
        if (!seen.contains(acked.getKey())) {
          problems.add(
              "the watch on "
                  + query
                  + " lost "
                  + entry.getKey()
                  + " = "
                  + acked.getKey()
                  + ", acknowledged at revision "
                  + acked.getValue());
        }
      }
    }
  }
}
