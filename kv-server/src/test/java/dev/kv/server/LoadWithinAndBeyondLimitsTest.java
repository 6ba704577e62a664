package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.api.KVGrpc;
import dev.kv.api.WatchRequest;
import dev.kv.api.WatchResponse;
import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import dev.kv.core.config.HostPort;
import dev.kv.core.grpc.GrpcErrors;
import dev.kv.core.remote.RemoteStore;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many clients and watches against one kv-server process, run as users run it (the launcher's JVM
 * options) with small limits, on loopback: first within the limits, then far beyond them. Nothing
 * acknowledged is lost, every watch sees every acknowledged write in order, excess load is refused
 * with RESOURCE_EXHAUSTED (or UNAVAILABLE) rather than queued, no call hangs, and the server's
 * memory stays bounded. And watch clients that stop reading cost the server a bounded amount and
 * nobody else anything.
 *
 * <p>Each test prints one line per phase with what it measured: calls per second, calls and watches
 * by status code, watch events delivered, the server's resident memory, threads and processor time.
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

  private static final int SLOW_MAX_WATCHES = 64;
  private static final int READING_WATCHES = 8;
  private static final int LARGE_VALUE = 32 << 10;

  /**
   * Enough for each stalled watch to fall more than twice {@link WatchStream#MAX_BACKLOG_BYTES}
   * behind.
   */
  private static final int LARGE_WRITES = 300;

  /** About 3 s when the server copes: the bound only counts once it does not. */
  private static final Duration LARGE_WRITING_AT_MOST = Duration.ofSeconds(30);

  /** The deadline of every call; a call not over within it and {@link #SLACK} hangs. */
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);

  /** Generous, so that a busy machine's delays are not taken for a hang. */
  private static final Duration SLACK = Duration.ofSeconds(25);

  /**
   * How long watches may take to deliver what was acknowledged before what they got is counted: a
   * bound for busy machines, not a measure (they catch up in well under a second on an idle one).
   */
  private static final Duration CATCH_UP = Duration.ofSeconds(60);

  /**
   * The bound on the server's peak resident memory (VmHWM). Measured on 2 cores: 88-91 MB at start,
   * a peak of 163-169 MB over both phases of the first test. The launcher's options cap the heap
   * (128 MB) and direct buffers (64 MB): on top of the JVM's own start, about 280 MB at most, so
   * more than 300 MB means growth outside those caps (threads, native memory).
   */
  private static final long MAX_PEAK_KB = 300L << 10;

  private static final String PADDING = "x".repeat(64);

  private final List<AutoCloseable> closeLast = new ArrayList<>();
  private DaemonProcess daemon;
  private UsageSampler usage;

  @AfterEach
  void stop() throws Exception {
    if (usage != null) {
      usage.close();
    }
    // The server first: clients then close at once, whatever state it was left in.
    if (daemon != null) {
      daemon.close();
    }
    for (AutoCloseable resource : closeLast) {
      resource.close();
    }
  }

  @Test
  void manyClientsAndWatches_withinThenBeyondTheLimits_loseNothing_neverHang_stayBounded()
      throws Exception {
    HostPort address = startServer(MAX_CALLS, MAX_WATCHES);
    Usage atStart = usage.now();

    Watchers watchers = withinTheLimits(address);
    beyondTheLimits(address, watchers);

    Usage atEnd = usage.now();
    String output = daemon.output();
    System.out.printf(
        "load: server at start %s, highest sampled VmRSS %d MB, at end %s; %d lines of output,"
            + " warnings and errors: %s%n",
        atStart,
        usage.highestRssKb() >> 10,
        atEnd,
        output.lines().count(),
        output.lines().filter(line -> line.matches(".*\\b(WARNING|SEVERE)\\b.*")).toList());
    assertThat(serverProblems(atEnd, output)).as("the server's health and memory").isEmpty();
  }

  /**
   * Watch clients that stop reading, next to clients that read and a writer of large values: each
   * lagging watch is ended once it is {@link WatchStream#MAX_BACKLOG_BYTES} behind, and lets go of
   * what it held (memory and its --max-watches slot), and nobody else notices. A few of them would
   * fit in the server's direct memory even if they kept all they may hold; more would not.
   */
  @ParameterizedTest(name = "{0} watches that do not read")
  @ValueSource(ints = {8, 24})
  void watchClientsThatStopReading_areEnded_withoutExhaustingTheServerOrDisturbingOthers(
      int stalledWatches) throws Exception {
    HostPort address = startServer(MAX_CALLS, SLOW_MAX_WATCHES);
    List<ManagedChannel> channels = new ArrayList<>();
    for (int c = 0; c < 2; c++) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext().build();
      channels.add(channel);
      closeLast.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    }
    List<StalledWatch> stalled = new ArrayList<>();
    for (int i = 0; i < stalledWatches; i++) {
      stalled.add(StalledWatch.open(channels.get(i % channels.size()), "slow/"));
    }
    for (StalledWatch watch : stalled) {
      awaitWithin(watch.created, CALL_TIMEOUT.plus(SLACK), "a watch that will not read to start");
    }
    List<RemoteStore> readerStores = connect(address, 2);
    List<RecordingWatch> readers = new ArrayList<>();
    for (int i = 0; i < READING_WATCHES; i++) {
      readers.add(RecordingWatch.open(readerStores.get(i % 2), WatchQuery.prefix("slow/")));
    }
    for (RecordingWatch reader : readers) {
      awaitWithin(reader.watch.started(), CALL_TIMEOUT.plus(SLACK), "a watch to start");
    }

    // Each write reaches every watch: the stalled ones fall behind by LARGE_VALUE each time.
    RemoteStore writer = connect(address, 1).get(0);
    KeyLedger ledger = new KeyLedger();
    Tally codes = new Tally();
    String large = "v".repeat(LARGE_VALUE);
    long started = System.nanoTime();
    long end = started + LARGE_WRITING_AT_MOST.toNanos();
    for (int n = 0; n < LARGE_WRITES && System.nanoTime() < end; n++) {
      String value = n + "-" + large;
      String code;
      long revision = 0;
      try {
        revision = writer.set("slow/k", value).get(CALL_TIMEOUT.plus(SLACK).toMillis(), MILLIS);
        code = "OK";
      } catch (Exception e) {
        code = codeOf(e);
      }
      codes.add(code);
      ledger.record(value, code, revision);
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    waitFor(
        CATCH_UP,
        () ->
            readers.stream()
                .allMatch(
                    reader ->
                        reader.lastRevision() >= ledger.lastAckedRevision()
                            || !reader.errors().isEmpty()));
    Usage afterWriting = usage.now();

    List<String> problems = new ArrayList<>();
    if (codes.count("OK") != codes.total()) {
      problems.add("sets failed next to watches that do not read: " + codes);
    }
    for (RecordingWatch reader : readers) {
      if (!reader.errors().isEmpty()) {
        problems.add(
            "a watch that reads ended with "
                + reader.errors().get(0).code()
                + ": "
                + reader.errors().get(0).getMessage());
      } else {
        checkDelivered(reader, Map.of("slow/k", ledger), problems);
      }
    }
    // The lagging watches were ended: their slots are free for new watches, once the server has
    // seen their streams end.
    int free = SLOW_MAX_WATCHES - READING_WATCHES;
    Tally opened = new Tally();
    waitFor(
        CATCH_UP,
        () -> {
          while (opened.count("CREATED") < free) {
            RecordingWatch watch =
                RecordingWatch.open(readerStores.get(0), WatchQuery.key("new/" + opened.total()));
            closeLast.add(watch.watch::close);
            try {
              watch.watch.started().get(CALL_TIMEOUT.plus(SLACK).toMillis(), MILLIS);
              opened.add("CREATED");
            } catch (Exception e) {
              opened.add(codeOf(e));
              return false;
            }
          }
          return true;
        });
    if (opened.count("CREATED") != free) {
      problems.add(
          "with "
              + READING_WATCHES
              + " watches open of --max-watches "
              + SLOW_MAX_WATCHES
              + ", only "
              + opened.count("CREATED")
              + " of "
              + free
              + " new watches opened ("
              + opened
              + "): the watches ended for lagging must have freed theirs");
    }
    String output = daemon.output();
    long outOfMemory = output.lines().filter(line -> line.contains("OutOfMemoryError")).count();
    System.out.printf(
        "load, watches that do not read: %d of them and %d that read, %d sets of %d KiB in %.1f s,"
            + " by status %s; %d events delivered to the reading watches, their errors %s; new"
            + " watches by first answer %s; %d lines of the server's output name an"
            + " OutOfMemoryError; server after writing %s%n",
        stalledWatches,
        READING_WATCHES,
        codes.total(),
        LARGE_VALUE >> 10,
        seconds,
        codes,
        readers.stream().mapToLong(RecordingWatch::delivered).sum(),
        readers.stream().flatMap(reader -> reader.errors().stream()).map(e -> e.code()).toList(),
        opened,
        outOfMemory,
        afterWriting);
    problems.addAll(serverProblems(usage.now(), output));
    assertThat(problems)
        .as("what watches that do not read did to the server and to others")
        .isEmpty();
  }

  /** Starts kv-server as users run it, on the memory store, with these limits. */
  private HostPort startServer(int maxCalls, int maxWatches) throws Exception {
    List<String> jvmOptions = DaemonProcess.launcherJvmOptions();
    daemon =
        DaemonProcess.startMain(
            jvmOptions,
            "--store",
            "memory",
            "--listen",
            "127.0.0.1:0",
            "--max-calls",
            String.valueOf(maxCalls),
            "--max-watches",
            String.valueOf(maxWatches));
    HostPort address = daemon.awaitListening();
    usage = new UsageSampler(daemon.pid());
    System.out.printf(
        "load: kv-server pid %d with %s, --max-calls %d --max-watches %d: at start %s%n",
        daemon.pid(), String.join(" ", jvmOptions), maxCalls, maxWatches, usage.now());
    return address;
  }

  /** What is wrong with the server process: gone, out of memory, or over its memory bound. */
  private List<String> serverProblems(Usage now, String output) {
    List<String> problems = new ArrayList<>(daemon.problems(output));
    if (now.hwmKb() >= MAX_PEAK_KB) {
      problems.add(
          "the server's peak resident memory is "
              + (now.hwmKb() >> 10)
              + " MB, beyond "
              + (MAX_PEAK_KB >> 10)
              + " MB");
    }
    return problems;
  }

  /**
   * A watch on a raw call whose client takes its first answer and then reads no more, as a client
   * that hangs would: what the server sends it waits in flow control and then on the server.
   */
  private static final class StalledWatch {
    final CompletableFuture<Boolean> created = new CompletableFuture<>();

    static StalledWatch open(ManagedChannel channel, String prefix) {
      StalledWatch watch = new StalledWatch();
      ClientCall<WatchRequest, WatchResponse> call =
          channel.newCall(KVGrpc.getWatchMethod(), CallOptions.DEFAULT);
      call.start(
          new ClientCall.Listener<>() {
            @Override
            public void onMessage(WatchResponse response) {
              watch.created.complete(response.getCreated());
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
              watch.created.completeExceptionally(status.asRuntimeException());
            }
          },
          new Metadata());
      call.request(1);
      call.sendMessage(WatchRequest.newBuilder().setKey(prefix).setPrefix(true).build());
      call.halfClose();
      return watch;
    }
  }

  /**
   * Phase 1: watches on every key on 20 connections, and 32 writers on connections of their own,
   * each the only writer of its keys, for {@link #WRITING}. Returns the watches, still open.
   */
  private Watchers withinTheLimits(HostPort address) throws Exception {
    Watchers watchers = new Watchers();
    List<RemoteStore> watchStores = connect(address, WATCH_CONNECTIONS);
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

    List<RemoteStore> writerStores = connect(address, WRITERS);
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
    Usage whileWriting = usage.now();

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
    covered.forEach((watch, inLedgers) -> checkDelivered(watch, inLedgers, problems));

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
      String code;
      long revision = 0;
      long sent = System.nanoTime();
      try {
        revision = store.set(key, value).get(CALL_TIMEOUT.plus(SLACK).toMillis(), MILLIS);
        code = "OK";
      } catch (Exception e) {
        code = codeOf(e);
      }
      slowestMillis.accumulateAndGet(
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent), Math::max);
      codes.add(code);
      ledger.record(value, code, revision);
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
  private void beyondTheLimits(HostPort address, Watchers watchers) throws Exception {
    List<RemoteStore> floodStores = connect(address, FLOOD_CONNECTIONS);
    ExecutorService callbacks = Executors.newFixedThreadPool(2);
    closeLast.add(callbacks::shutdownNow);
    Flood flood = new Flood(floodStores, callbacks);
    flood.start();

    // Watches beyond the limit, on raw streams so that each first answer is seen as it is.
    List<ManagedChannel> channels = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext().build();
      channels.add(channel);
      closeLast.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    }
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
      closeLast.add(watch::close);
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
    Usage whileFlooding = usage.now();

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

  /** Closed-loop calls from several connections, each ended call replaced by a new one. */
  private static final class Flood {
    final List<RemoteStore> stores;
    final ExecutorService callbacks;
    final Tally codes = new Tally();
    final AtomicLong slowestMillis = new AtomicLong();
    final AtomicLong sequence = new AtomicLong();
    final CountDownLatch ended = new CountDownLatch(FLOOD_IN_FLIGHT);
    long started;
    long end;
    long stopped;

    Flood(List<RemoteStore> stores, ExecutorService callbacks) {
      this.stores = stores;
      this.callbacks = callbacks;
    }

    void start() {
      started = System.nanoTime();
      end = started + FLOODING.toNanos();
      for (int slot = 0; slot < FLOOD_IN_FLIGHT; slot++) {
        next(stores.get(slot % stores.size()));
      }
    }

    private void next(RemoteStore store) {
      if (System.nanoTime() >= end) {
        ended.countDown();
        return;
      }
      long n = sequence.incrementAndGet();
      String key = "flood/" + (n % 1000);
      CompletableFuture<?> call =
          n % 2 == 0 ? store.set(key, "f" + n + "-" + PADDING) : store.get(key);
      long sent = System.nanoTime();
      call.orTimeout(CALL_TIMEOUT.plus(SLACK).toMillis(), MILLIS)
          .whenCompleteAsync(
              (result, error) -> {
                slowestMillis.accumulateAndGet(
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent), Math::max);
                codes.add(error == null ? "OK" : codeOf(error));
                next(store);
              },
              callbacks);
    }

    void awaitEnd() throws InterruptedException {
      boolean over =
          ended.await(FLOODING.plus(CALL_TIMEOUT).plus(SLACK).plus(SLACK).toMillis(), MILLIS);
      stopped = System.nanoTime();
      assertThat(over).as("every call of the flood ended (%d did not)", ended.getCount()).isTrue();
      assertThat(codes.count("HANG"))
          .as("calls that did not end within %s", CALL_TIMEOUT.plus(SLACK))
          .isZero();
    }

    double seconds() {
      return (stopped - started) / 1e9;
    }
  }

  /** A watch on a raw stream: its first answer is CREATED or the status code it failed with. */
  private static final class RawWatch {
    final CompletableFuture<String> first = new CompletableFuture<>();
    volatile ClientCallStreamObserver<WatchRequest> call;

    static RawWatch open(ManagedChannel channel, String key) {
      RawWatch watch = new RawWatch();
      KVGrpc.newStub(channel)
          .watch(
              WatchRequest.newBuilder().setKey(key).build(),
              new ClientResponseObserver<WatchRequest, WatchResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<WatchRequest> stream) {
                  watch.call = stream;
                }

                @Override
                public void onNext(WatchResponse response) {
                  watch.first.complete(response.getCreated() ? "CREATED" : "EVENT");
                }

                @Override
                public void onError(Throwable error) {
                  watch.first.complete(Status.fromThrowable(error).getCode().name());
                }

                @Override
                public void onCompleted() {
                  watch.first.complete("COMPLETED");
                }
              });
      return watch;
    }

    boolean created() {
      return "CREATED".equals(first.getNow(null));
    }

    void cancel() {
      call.cancel("done", null);
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

  /** A watch that keeps what it was given. */
  private static final class RecordingWatch implements WatchListener {
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
  }

  /**
   * The sets of one key, in the order its only writer made them: acknowledged ones with their
   * revisions, refused ones (never applied), and ones whose fate is unknown (a deadline passed or
   * the connection broke: applied or not).
   */
  private static final class KeyLedger {
    final Map<String, Long> acked = new LinkedHashMap<>();
    final Set<String> refused = new HashSet<>();
    final List<String> unknownSinceLastAck = new ArrayList<>();
    final Set<String> unknown = new HashSet<>();
    String lastAcked;
    long lastAckedRevision;

    void record(String value, String code, long revision) {
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

  /**
   * Checks that {@code watch} delivered each acknowledged write to the keys of {@code ledgers} at
   * its revision, in revision order, once, and nothing that was refused or never written.
   */
  private static void checkDelivered(
      RecordingWatch watch, Map<String, KeyLedger> ledgers, List<String> problems) {
    Set<String> seen = new HashSet<>();
    long previous = 0;
    for (WatchEvent event : watch.events()) {
      String key = event.entry().key();
      String value = event.entry().value();
      KeyLedger ledger = ledgers.get(key);
      if (event.revision() <= previous) {
        problems.add(
            "the watch on "
                + watch.query
                + " got revision "
                + event.revision()
                + " after "
                + previous);
      }
      previous = event.revision();
      if (ledger == null || event.type() != WatchEvent.Type.PUT) {
        problems.add("the watch on " + watch.query + " got " + event + ", never written");
      } else if (!seen.add(value)) {
        problems.add("the watch on " + watch.query + " got " + value + " twice");
      } else if (ledger.acked.containsKey(value)) {
        if (ledger.acked.get(value) != event.revision()) {
          problems.add(
              "the watch on "
                  + watch.query
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
                + watch.query
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
                  + watch.query
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

  /** Counts by status code, or by any other name of an outcome. */
  private static final class Tally {
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

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

  private List<RemoteStore> connect(HostPort address, int count) {
    List<RemoteStore> stores = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      RemoteStore store = RemoteStore.connect(address, CALL_TIMEOUT);
      stores.add(store);
      closeLast.add(store);
    }
    return stores;
  }

  private static String key(int i) {
    return group(i % GROUPS) + "k" + i;
  }

  private static String group(int g) {
    return "load/g" + g + "/";
  }

  private static final TimeUnit MILLIS = TimeUnit.MILLISECONDS;

  /** The status code a call failed with, or HANG when it did not end in time. */
  private static String codeOf(Throwable error) {
    Throwable cause = GrpcErrors.unwrap(error);
    if (cause instanceof TimeoutException) {
      return "HANG";
    }
    if (cause instanceof KvException kv) {
      return kv.code().name();
    }
    return "UNEXPECTED " + cause;
  }

  /** The value of {@code future}, failing the test if it takes longer than {@code timeout}. */
  private static <T> T awaitWithin(CompletableFuture<T> future, Duration timeout, String what)
      throws InterruptedException, ExecutionException {
    try {
      return future.get(timeout.toMillis(), MILLIS);
    } catch (TimeoutException e) {
      throw new AssertionError("waited " + timeout + " for " + what + ": it hangs");
    }
  }

  /**
   * Polls {@code condition} until it holds or {@code timeout} passes; returns whether it held. When
   * it never does, the checks that follow say what is missing.
   */
  private static boolean waitFor(Duration timeout, BooleanSupplier condition) {
    try {
      Awaitility.await()
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(50))
          .until(condition::getAsBoolean);
      return true;
    } catch (ConditionTimeoutException e) {
      return false;
    }
  }
}
