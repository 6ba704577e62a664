package dev.kv.server;

import static dev.kv.server.LoadServer.CALL_TIMEOUT;
import static dev.kv.server.LoadServer.MILLIS;
import static dev.kv.server.LoadServer.SLACK;

import dev.kv.core.remote.RemoteStore;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sets of one key, in the order its only writer made them: acknowledged ones with their
 * revisions, refused ones (never applied), and ones whose fate is unknown (a deadline passed or the
 * connection broke: applied or not).
 */
final class KeyLedger {
  final Map<String, Long> acked = new LinkedHashMap<>();
  final Set<String> refused = new HashSet<>();
  final List<String> unknownSinceLastAck = new ArrayList<>();
  final Set<String> unknown = new HashSet<>();
  String lastAcked;
  long lastAckedRevision;

  /**
   * Sets {@code key}, whose ledger this is, to {@code value} through {@code store}, and records how
   * the set ended. Returns its status code: OK, the code it failed with, or HANG.
   */
  String set(RemoteStore store, String key, String value) {
    String code;
    long revision = 0;
    try {
      revision = store.set(key, value).get(CALL_TIMEOUT.plus(SLACK).toMillis(), MILLIS);
      code = "OK";
    } catch (Exception e) {
      code = Tally.codeOf(e);
    }
    record(value, code, revision);
    return code;
  }

  private void record(String value, String code, long revision) {
    switch (code) {
      case "OK" -> {
        acked.put(value, revision);
        lastAcked = value;
        lastAckedRevision = revision;
        unknownSinceLastAck.clear();
      }
      case "RESOURCE_EXHAUSTED" -> refused.add(value);
      default -> {
        unknown.add(value);
        unknownSinceLastAck.add(value);
      }
    }
  }

  long lastAckedRevision() {
    return lastAckedRevision;
  }

  String lastAckedValue() {
    return lastAcked;
  }

  boolean mayHoldNow(String value) {
    return value == null
        ? lastAcked == null && unknownSinceLastAck.isEmpty()
        : value.equals(lastAcked) || unknownSinceLastAck.contains(value);
  }
}
