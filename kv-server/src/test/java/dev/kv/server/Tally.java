package dev.kv.server;

import dev.kv.core.KvException;
import dev.kv.core.grpc.GrpcErrors;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;

/** Counts by status code, or by any other name of an outcome. */
final class Tally {
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  /** The status code a call failed with, or HANG when it did not end in time. */
  static String codeOf(Throwable error) {
    Throwable cause = GrpcErrors.unwrap(error);
    if (cause instanceof TimeoutException) {
      return "HANG";
    }
    if (cause instanceof KvException kv) {
      return kv.code().name();
    }
    return "UNEXPECTED " + cause;
  }

  void add(String code) {
    counts.computeIfAbsent(code, c -> new LongAdder()).increment();
  }

  long count(String code) {
    LongAdder count = counts.get(code);
    return count == null ? 0 : count.sum();
  }

  long total() {
    return counts.values().stream().mapToLong(LongAdder::sum).sum();
  }

  Set<String> codes() {
    return Set.copyOf(counts.keySet());
  }

  @Override
  public String toString() {
    Map<String, Long> sorted = new TreeMap<>();
    counts.forEach((code, count) -> sorted.put(code, count.sum()));
    return sorted.toString();
  }
}
