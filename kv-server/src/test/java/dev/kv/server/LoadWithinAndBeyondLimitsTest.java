package dev.kv.server;

import static dev.kv.server.LoadServer.CALL_TIMEOUT;
import static dev.kv.server.LoadServer.CATCH_UP;
import static dev.kv.server.LoadServer.MILLIS;
import static dev.kv.server.LoadServer.SLACK;
import static dev.kv.server.LoadServer.awaitWithin;
import static dev.kv.server.LoadServer.waitFor;
import static dev.kv.server.Tally.codeOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.remote.RemoteStore;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many clients and watches against one kv-server process, run as users run it (the launcher's JVM
 * options) with small limits, on loopback: first within the limits, then far beyond them. Nothing
 * acknowledged is lost, every watch sees every acknowledged write in order, excess load is refused
 * with RESOURCE_EXHAUSTED (or UNAVAILABLE) rather than queued, no call hangs, and the server's
 * memory stays bounded.
 *
 * <p>It prints one line per phase with what it measured: calls per second, calls and watches by
 * status code, watch events delivered, the server's resident memory, threads and processor time.
 */
@Timeout(300)
class LoadWithinAndBeyondLimitsTest {

  private static final int MAX_CALLS = 64;
  private static final int MAX_WATCHES = 200;

  private static final int KEYS = 192;
  private static final int GROUPS = 4;
  private static final int WATCH_CONNECTIONS = 20;
  private static final int WRITERS = 32;
  private static final Duration WRITING = Duration.ofSeconds(8);

  private static final int FLOOD_CONNECTIONS = 8;
  private static final int FLOOD_IN_FLIGHT = 400;
  private static final Duration FLOODING = Duration.ofSeconds(6);
  private static final int EXTRA_WATCHES = 300;
  private static final int EXTRA_REMOTE_WATCHES = 8;

  private static final String PADDING = "x".repeat(64);

  @AutoClose private final Closer closer = new Closer();
  private LoadServer server;

  @Test
  void manyClientsAndWatches_withinThenBeyondTheLimits_loseNothing_neverHang_stayBounded()
      throws Exception {
    server = LoadServer.start(closer, MAX_CALLS, MAX_WATCHES);
    UsageSampler usage = server.usage();
    Usage atStart = usage.now();

    Watchers watchers = withinTheLimits();
    beyondTheLimits(watchers);

    Usage atEnd = usage.now();
    String output = server.output();
    System.out.printf(
        "load: server at start %s, highest sampled VmRSS %d MB, at end %s; %d lines of output,"
            + " warnings and errors: %s%n",
        atStart,
        usage.highestRssKb() >> 10,
        atEnd,
        output.lines().count(),
        output.lines().filter(line -> line.matches(".*\\b(WARNING|SEVERE)\\b.*")).toList());
    assertThat(server.problems(atEnd, output)).as("the server's health and memory").isEmpty();
  }

  /**
   * Phase 1: watches on every key on 20 connections, and 32 writers on connections of their own,
   * each the only writer of its keys, for {@link #WRITING}. Returns the watches, still open.
   */
  private Watchers withinTheLimits() throws Exception {
    Watchers watchers = new Watchers();
    List<RemoteStore> watchStores = server.connect(WATCH_CONNECTIONS);
    for (int i = 0; i < KEYS; i++) {
      watchers.keys.add(
          RecordingWatch.open(watchStores.get(i % WATCH_CONNECTIONS), WatchQuery.key(key(i))));
    }
    for (int g = 0; g < GROUPS; g++) {
      watchers.groups.add(
          RecordingWatch.open(watchStores.get(g % WATCH_CONNECTIONS), WatchQuery.prefix(group(g))));
    }
    for (RecordingWatch watch : watchers.all()) {
      awaitWithin(watch.watch.started(), CALL_TIMEOUT.plus(SLACK), "a watch to start");
    }

    List<RemoteStore> writerStores = server.connect(WRITERS);
    Map<String, KeyLedger> ledgers = new ConcurrentHashMap<>();
    for (int i = 0; i < KEYS; i++) {
      ledgers.put(key(i), new KeyLedger());
    }
    Tally codes = new Tally();
    LongAdder reads = new LongAdder();
    AtomicLong slowest = new AtomicLong();
    List<String> problems = new CopyOnWriteArrayList<>();
    long end = System.nanoTime() + WRITING.toNanos();
    long started = System.nanoTime();
    List<Thread> writers = new ArrayList<>();
    for (int w = 0; w < WRITERS; w++) {
      int writer = w;
      RemoteStore store = writerStores.get(w);
      Thread thread =
          new Thread(
              () -> write(writer, store, ledgers, codes, reads, slowest, problems, end),
              "writer-" + w);
      thread.start();
      writers.add(thread);
    }
    for (Thread writer : writers) {
      writer.join(WRITING.plus(CALL_TIMEOUT).plus(SLACK).plus(SLACK).toMillis());
      assertThat(writer.isAlive()).as("%s is over", writer.getName()).isFalse();
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    Usage whileWriting = server.usage().now();

    // Every watch, on a key or on a group, catches up with the last acknowledged write it covers
    // before what it delivered is counted: a write still on its way is not lost.
    Map<RecordingWatch, Map<String, KeyLedger>> covered = new LinkedHashMap<>();
    for (int i = 0; i < KEYS; i++) {
      covered.put(watchers.keys.get(i), Map.of(key(i), ledgers.get(key(i))));
    }
    for (int g = 0; g < GROUPS; g++) {
      Map<String, KeyLedger> inGroup = new HashMap<>();
      for (int i = g; i < KEYS; i += GROUPS) {
        inGroup.put(key(i), ledgers.get(key(i)));
      }
      covered.put(watchers.groups.get(g), inGroup);
    }
    waitFor(
        CATCH_UP,
        () ->
            covered.entrySet().stream()
                .allMatch(
                    watch ->
                        watch.getKey().lastRevision()
                            >= watch.getValue().values().stream()
                                .mapToLong(KeyLedger::lastAckedRevision)
                                .max()
                                .orElse(0)));
    covered.forEach((watch, inLedgers) -> watch.checkDelivered(inLedgers, problems));

    // Every acknowledged write is what a read finds now.
    RemoteStore reader = writerStores.get(0);
    for (int i = 0; i < KEYS; i++) {
      Optional<KeyValue> found =
          awaitWithin(reader.get(key(i)), CALL_TIMEOUT.plus(SLACK), "a final read");
      KeyLedger ledger = ledgers.get(key(i));
      if (!ledger.mayHoldNow(found.map(KeyValue::value).orElse(null))) {
        problems.add(
            key(i)
                + " holds "
                + found.map(KeyValue::value).orElse("nothing")
                + ", not its last acknowledged value "
                + ledger.lastAckedValue());
      }
    }

    long sets = codes.total();
    long acked = codes.count("OK");
    long events = watchers.all().stream().mapToLong(RecordingWatch::delivered).sum();
    System.out.printf(
        "load phase 1 (within the limits): %d writers, %d watches on %d connections, %.1f s: "
            + "%d sets (%.0f/s), slowest %d ms, %d reads, sets by status %s; %d watch events delivered "
            + "(%.0f/s), %d watch interruptions; server after writing %s%n",
        WRITERS,
        watchers.all().size(),
        WATCH_CONNECTIONS,
        seconds,
        sets,
        sets / seconds,
        slowest.get(),
        reads.sum(),
        codes,
        events,
        events / seconds,
        watchers.all().stream().mapToLong(RecordingWatch::interruptions).sum(),
        whileWriting);

    assertThat(problems).as("what went wrong within the limits").isEmpty();
    assertThat(codes.codes())
        .as("the status of every set")
        .isSubsetOf("OK", "RESOURCE_EXHAUSTED", "UNAVAILABLE", "DEADLINE_EXCEEDED");
    assertThat(acked).as("acknowledged sets").isGreaterThan(WRITERS * 10L);
    for (RecordingWatch watch : watchers.all()) {
      assertThat(watch.errors()).as("errors of the watch on %s", watch.query).isEmpty();
    }
    return watchers;
  }

  /** One writer: sets its own keys, one call at a time, and now and then reads one back. */
  private static void write(
      int writer,
      RemoteStore store,
      Map<String, KeyLedger> ledgers,
      Tally codes,
      LongAdder reads,
      AtomicLong slowestMillis,
      List<String> problems,
      long end) {
    List<String> mine = new ArrayList<>();
    for (int i = writer; i < KEYS; i += WRITERS) {
      mine.add(key(i));
    }
    for (long n = 0; System.nanoTime() < end; n++) {
      String key = mine.get((int) (n % mine.size()));
      String value = "w" + writer + "-" + n + "-" + PADDING;
      KeyLedger ledger = ledgers.get(key);
      long sent = System.nanoTime();
      String code = ledger.set(store, key, value);
      slowestMillis.accumulateAndGet(
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent), Math::max);
      codes.add(code);
      if (code.equals("HANG")) {
        problems.add("a set of " + key + " did not end within " + CALL_TIMEOUT.plus(SLACK));
        return;
      }
      if (code.equals("OK") && n % 16 == 0) {
        // Each key has one writer: a read after an acknowledged write sees it.
        try {
          Optional<KeyValue> read = store.get(key).get(CALL_TIMEOUT.plus(SLACK).toMillis(), MILLIS);
          reads.increment();
          if (read.isEmpty() || !read.get().value().equals(value)) {
            problems.add(key + " read back as " + read + " just after " + value + " was set");
          }
        } catch (Exception e) {
          String readCode = codeOf(e);
          if (!Set.of("RESOURCE_EXHAUSTED", "UNAVAILABLE", "DEADLINE_EXCEEDED")
              .contains(readCode)) {
            problems.add("a read of " + key + " failed with " + readCode + ": " + e);
          }
        }
      }
    }
  }

  /**
   * Phase 2: {@link #FLOOD_IN_FLIGHT} unary calls kept in flight at once for {@link #FLOODING},
   * many times --max-calls, while {@link #EXTRA_WATCHES} more watches than --max-watches leaves
   * room for try to open; then the server still serves, and the watches of phase 1 still deliver.
   */
  private void beyondTheLimits(Watchers watchers) throws Exception {
    List<RemoteStore> floodStores = server.connect(FLOOD_CONNECTIONS);
    ExecutorService callbacks = Executors.newFixedThreadPool(2);
    closer.add(callbacks::shutdownNow);
    Flood flood = new Flood(floodStores, callbacks, FLOOD_IN_FLIGHT, FLOODING);
    flood.start();

    // Watches beyond the limit, on raw streams so that each first answer is seen as it is.
    List<ManagedChannel> channels = server.channels(4);
    List<RawWatch> extra = new ArrayList<>();
    for (int i = 0; i < EXTRA_WATCHES; i++) {
      extra.add(RawWatch.open(channels.get(i % channels.size()), "extra/" + i));
    }
    Tally extraCodes = new Tally();
    for (RawWatch watch : extra) {
      extraCodes.add(awaitWithin(watch.first, CALL_TIMEOUT.plus(SLACK), "a watch's first answer"));
    }

    // Through RemoteStore, a watch refused for the limit ends with RESOURCE_EXHAUSTED, once: to its
    // listener and in its start.
    List<CompletableFuture<KvException>> refusals = new ArrayList<>();
    List<Watch> refusedWatches = new ArrayList<>();
    for (int i = 0; i < EXTRA_REMOTE_WATCHES; i++) {
      CompletableFuture<KvException> refused = new CompletableFuture<>();
      Watch watch =
          floodStores
              .get(i % FLOOD_CONNECTIONS)
              .watch(
                  WatchQuery.key("extra/remote/" + i),
                  new WatchListener() {
                    @Override
                    public void onEvent(WatchEvent event) {}

                    @Override
                    public void onError(KvException error) {
                      if (!refused.complete(error)) {
                        refused.obtrudeException(new AssertionError("onError twice: " + error));
                      }
                    }
                  });
      closer.add(watch::close);
      refusals.add(refused);
      refusedWatches.add(watch);
    }
    Tally remoteCodes = new Tally();
    Tally remoteStarts = new Tally();
    for (int i = 0; i < EXTRA_REMOTE_WATCHES; i++) {
      KvException error =
          awaitWithin(
              refusals.get(i), CALL_TIMEOUT.plus(SLACK), "a refused watch to report its error");
      remoteCodes.add(error.code().name());
      try {
        refusedWatches.get(i).started().get(CALL_TIMEOUT.plus(SLACK).toMillis(), MILLIS);
        remoteStarts.add("STARTED");
      } catch (Exception e) {
        remoteStarts.add(codeOf(e));
      }
    }

    flood.awaitEnd();
    Usage whileFlooding = server.usage().now();

    // The watches that got in end, and their slots are free again.
    extra.stream().filter(RawWatch::created).forEach(RawWatch::cancel);
    RemoteStore after = floodStores.get(0);
    boolean reopened =
        waitFor(
            CATCH_UP,
            () -> {
              RecordingWatch watch = RecordingWatch.open(after, WatchQuery.key("extra/again"));
              try {
                watch.watch.started().get(CALL_TIMEOUT.plus(SLACK).toMillis(), MILLIS);
                watch.watch.close();
                return true;
              } catch (Exception e) {
                return false;
              }
            });

    // The server still answers, and the watches of phase 1 still deliver every change.
    awaitWithin(after.checkHealth(), CALL_TIMEOUT.plus(SLACK), "a health check");
    Map<String, Long> written = new LinkedHashMap<>();
    for (int i = 0; i < KEYS; i++) {
      written.put(
          key(i),
          awaitWithin(after.set(key(i), "after-overload"), CALL_TIMEOUT.plus(SLACK), "a set"));
    }
    waitFor(
        CATCH_UP,
        () -> {
          for (int i = 0; i < KEYS; i++) {
            if (watchers.keys.get(i).lastRevision() < written.get(key(i))) {
              return false;
            }
          }
          return true;
        });

    System.out.printf(
        "load phase 2 (beyond the limits): %d calls in flight on %d connections for %.1f s: %d"
            + " calls (%.0f/s), by status %s, slowest %d ms; %d watches beyond the %d open, by"
            + " first answer %s; %d more through RemoteStore, by error %s and by start %s; server while"
            + " flooding %s%n",
        FLOOD_IN_FLIGHT,
        FLOOD_CONNECTIONS,
        flood.seconds(),
        flood.codes.total(),
        flood.codes.total() / flood.seconds(),
        flood.codes,
        flood.slowestMillis.get(),
        EXTRA_WATCHES,
        watchers.all().size(),
        extraCodes,
        EXTRA_REMOTE_WATCHES,
        remoteCodes,
        remoteStarts,
        whileFlooding);

    assertThat(flood.codes.codes())
        .as("the status of every call beyond the limits")
        .isSubsetOf("OK", "RESOURCE_EXHAUSTED", "UNAVAILABLE");
    assertThat(flood.codes.count("RESOURCE_EXHAUSTED"))
        .as("calls refused for --max-calls")
        .isPositive();
    assertThat(flood.codes.count("OK")).as("calls served").isPositive();
    assertThat(extraCodes.count("CREATED"))
        .as("watches that fit in --max-watches next to the %d open", watchers.all().size())
        .isEqualTo(MAX_WATCHES - watchers.all().size());
    assertThat(extraCodes.count("RESOURCE_EXHAUSTED"))
        .as("watches refused for --max-watches")
        .isEqualTo(EXTRA_WATCHES - (MAX_WATCHES - watchers.all().size()));
    assertThat(remoteCodes.count("RESOURCE_EXHAUSTED"))
        .as("RemoteStore watches refused for --max-watches, told to their listeners")
        .isEqualTo(EXTRA_REMOTE_WATCHES);
    assertThat(remoteStarts.count("RESOURCE_EXHAUSTED"))
        .as("RemoteStore watches refused for --max-watches, whose start failed so")
        .isEqualTo(EXTRA_REMOTE_WATCHES);
    assertThat(reopened).as("a watch opens once the extra ones are gone").isTrue();
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < KEYS; i++) {
      RecordingWatch watch = watchers.keys.get(i);
      if (watch.lastRevision() != written.get(key(i))) {
        problems.add(
            "the watch on "
                + key(i)
                + " got revision "
                + watch.lastRevision()
                + " last, not "
                + written.get(key(i)));
      }
    }
    assertThat(problems).as("the watches of phase 1 after the overload").isEmpty();
    for (RecordingWatch watch : watchers.all()) {
      assertThat(watch.errors()).as("errors of the watch on %s", watch.query).isEmpty();
    }
  }

  /** The watches of phase 1: one per key, and one per group of keys. */
  private static final class Watchers {
    final List<RecordingWatch> keys = new ArrayList<>();
    final List<RecordingWatch> groups = new ArrayList<>();

    List<RecordingWatch> all() {
      List<RecordingWatch> all = new ArrayList<>(keys);
      all.addAll(groups);
      return all;
    }
  }

  private static String key(int i) {
    return group(i % GROUPS) + "k" + i;
  }

  private static String group(int g) {
    return "load/g" + g + "/";
  }
}
