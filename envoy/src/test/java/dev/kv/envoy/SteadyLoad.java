package dev.kv.envoy;

import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.grpc.GrpcErrors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Clients that keep reads and writes going through one store, a call in flight per worker: each
 * worker writes keys of its own, each once with a value of its own, and reads back the last one it
 * had acknowledged, so that a read proves it succeeded and saw the write. Every call's outcome is
 * tallied, and every acknowledged write kept, to check afterwards that none was lost.
 */
final class SteadyLoad {

  /** Longer than any deadline on the way (the client's, Envoy's route timeout): never a hang. */
  private static final Duration CALL_WAIT = Duration.ofSeconds(30);

  /** Between one worker's calls: a steady load that leaves the two cores to the processes. */
  private static final Duration PAUSE = Duration.ofMillis(10);

  private final KvStore store;
  private final String prefix;
  private final List<Thread> workers = new ArrayList<>();
  private final Map<String, String> acknowledged = new ConcurrentHashMap<>();
  final Outcomes reads = new Outcomes();
  final Outcomes writes = new Outcomes();
  private volatile boolean running = true;

  private SteadyLoad(KvStore store, String prefix) {
    this.store = store;
    this.prefix = prefix;
  }

  /** Starts {@code workers} clients of {@code store}, on keys under {@code prefix}. */
  static SteadyLoad start(KvStore store, String prefix, int workers) {
    String seed = prefix + "seed";
    store.blocking().set(seed, valueOf(seed));
    SteadyLoad load = new SteadyLoad(store, prefix);
    for (int w = 0; w < workers; w++) {
      int worker = w;
      Thread thread = new Thread(() -> load.run(worker, seed), "load-" + prefix + w);
      load.workers.add(thread);
      thread.start();
    }
    return load;
  }

  private void run(int worker, String seed) {
    String lastAcknowledged = seed;
    for (int i = 0; running; i++) {
      String key = prefix + worker + "/" + i;
      String written =
          writes.record(
              () -> store.set(key, valueOf(key)).get(CALL_WAIT.toMillis(), TimeUnit.MILLISECONDS));
      if (written.equals(Outcomes.OK)) {
        acknowledged.put(key, valueOf(key));
        lastAcknowledged = key;
      }
      String read = lastAcknowledged;
      reads.record(
          () -> {
            Optional<KeyValue> entry =
                store.get(read).get(CALL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (!entry.map(KeyValue::value).equals(Optional.of(valueOf(read)))) {
              throw new AssertionError(read + " read as " + entry);
            }
            return null;
          });
      try {
        Thread.sleep(PAUSE.toMillis());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static String valueOf(String key) {
    return "value of " + key;
  }

  /** Stops the workers once their calls in flight have ended. */
  SteadyLoad stop() throws InterruptedException {
    running = false;
    for (Thread worker : workers) {
      worker.join(CALL_WAIT.multipliedBy(3).toMillis());
    }
    return this;
  }

  /**
   * The acknowledged writes that the store does not hold with their value, as a listing of their
   * keys now shows: none, unless a write was lost.
   */
  Map<String, String> lostWrites() {
    Map<String, String> stored = new HashMap<>();
    ListQuery query = ListQuery.prefix(prefix).limit(ListQuery.MAX_LIMIT);
    for (Page page = store.blocking().list(query); ; ) {
      page.entries().forEach(entry -> stored.put(entry.key(), entry.value()));
      if (!page.more()) {
        break;
      }
      page =
          store
              .blocking()
              .list(query.startAfter(page.entries().get(page.entries().size() - 1).key()));
    }
    Map<String, String> lost = new HashMap<>();
    acknowledged.forEach(
        (key, value) -> {
          if (!value.equals(stored.get(key))) {
            lost.put(key, "acknowledged " + value + ", stored " + stored.get(key));
          }
        });
    return lost;
  }

  int acknowledgedWrites() {
    return acknowledged.size();
  }

  /** Prints the figures, as {@code what: calls, reads and writes by outcome}, for the report. */
  void print(String what) {
    System.out.printf(
        "%s: %d calls; reads %d, failed %d %s; writes %d, failed %d %s%n",
        what,
        reads.total() + writes.total(),
        reads.total(),
        reads.failed(),
        reads,
        writes.total(),
        writes.failed(),
        writes);
  }

  /** How the calls of one kind ended: counts by status code. */
  static final class Outcomes {
    static final String OK = "OK";
    private final Map<String, Long> counts = new ConcurrentHashMap<>();

    interface Call {
      Object run() throws Exception;
    }

    /** Runs {@code call} and counts how it ended; returns that: OK, a status code or HANG. */
    String record(Call call) {
      String outcome;
      try {
        call.run();
        outcome = OK;
      } catch (Exception | AssertionError e) {
        outcome = outcomeOf(e);
      }
      counts.merge(outcome, 1L, Long::sum);
      return outcome;
    }

    private static String outcomeOf(Throwable error) {
      Throwable cause = GrpcErrors.unwrap(error);
      if (cause instanceof TimeoutException) {
        return "HANG";
      }
      if (cause instanceof KvException kv) {
        return kv.code().name();
      }
      if (cause instanceof AssertionError wrong) {
        return "WRONG " + wrong.getMessage();
      }
      return "UNEXPECTED " + cause;
    }

    long total() {
      return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    long failed() {
      return total() - counts.getOrDefault(OK, 0L);
    }

    /** The failures by outcome. */
    Map<String, Long> failures() {
      Map<String, Long> failures = new HashMap<>(counts);
      failures.remove(OK);
      return failures;
    }

    @Override
    public String toString() {
      return new TreeMap<>(counts).toString();
    }
  }
}
