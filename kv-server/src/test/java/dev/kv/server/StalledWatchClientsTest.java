package dev.kv.server;

import static dev.kv.server.LoadServer.CALL_TIMEOUT;
import static dev.kv.server.LoadServer.CATCH_UP;
import static dev.kv.server.LoadServer.MILLIS;
import static dev.kv.server.LoadServer.SLACK;
import static dev.kv.server.LoadServer.awaitWithin;
import static dev.kv.server.LoadServer.waitFor;
import static dev.kv.server.Tally.codeOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.WatchQuery;
import dev.kv.core.remote.RemoteStore;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Watch clients that stop reading cost kv-server a bounded amount and nobody else anything: against
 * one kv-server process, run as users run it (the launcher's JVM options) with small limits, on
 * loopback.
 *
 * <p>It prints what it measured: sets by status code, watch events delivered, new watches by first
 * answer, the server's resident memory, threads and processor time.
 */
@Timeout(300)
class StalledWatchClientsTest {

  private static final int MAX_CALLS = 64;

  private static final int MAX_WATCHES = 64;
  private static final int READING_WATCHES = 8;
  private static final int LARGE_VALUE = 32 << 10;

  /**
   * Enough for each stalled watch to fall more than twice {@link WatchStream#MAX_BACKLOG_BYTES}
   * behind.
   */
  private static final int LARGE_WRITES = 300;

  /** About 3 s when the server copes: the bound only counts once it does not. */
  private static final Duration LARGE_WRITING_AT_MOST = Duration.ofSeconds(30);

  @AutoClose private final Closer closer = new Closer();

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
    LoadServer server = LoadServer.start(closer, MAX_CALLS, MAX_WATCHES);
    List<ManagedChannel> channels = server.channels(2);
    List<StalledWatch> stalled = new ArrayList<>();
    for (int i = 0; i < stalledWatches; i++) {
      stalled.add(StalledWatch.open(channels.get(i % channels.size()), "slow/"));
    }
    for (StalledWatch watch : stalled) {
      awaitWithin(watch.created, CALL_TIMEOUT.plus(SLACK), "a watch that will not read to start");
    }
    List<RemoteStore> readerStores = server.connect(2);
    List<RecordingWatch> readers = new ArrayList<>();
    for (int i = 0; i < READING_WATCHES; i++) {
      readers.add(RecordingWatch.open(readerStores.get(i % 2), WatchQuery.prefix("slow/")));
    }
    for (RecordingWatch reader : readers) {
      awaitWithin(reader.watch.started(), CALL_TIMEOUT.plus(SLACK), "a watch to start");
    }

    // Each write reaches every watch: the stalled ones fall behind by LARGE_VALUE each time.
    RemoteStore writer = server.connect(1).get(0);
    KeyLedger ledger = new KeyLedger();
    Tally codes = new Tally();
    String large = "v".repeat(LARGE_VALUE);
    long started = System.nanoTime();
    long end = started + LARGE_WRITING_AT_MOST.toNanos();
    for (int n = 0; n < LARGE_WRITES && System.nanoTime() < end; n++) {
      codes.add(ledger.set(writer, "slow/k", n + "-" + large));
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
    Usage afterWriting = server.usage().now();

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
        reader.checkDelivered(Map.of("slow/k", ledger), problems);
      }
    }
    // The lagging watches were ended: their slots are free for new watches, once the server has
    // seen their streams end.
    int free = MAX_WATCHES - READING_WATCHES;
    Tally opened = new Tally();
    waitFor(
        CATCH_UP,
        () -> {
          while (opened.count("CREATED") < free) {
            RecordingWatch watch =
                RecordingWatch.open(readerStores.get(0), WatchQuery.key("new/" + opened.total()));
            closer.add(watch.watch::close);
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
              + MAX_WATCHES
              + ", only "
              + opened.count("CREATED")
              + " of "
              + free
              + " new watches opened ("
              + opened
              + "): the watches ended for lagging must have freed theirs");
    }
    String output = server.output();
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
    problems.addAll(server.problems(server.usage().now(), output));
    assertThat(problems)
        .as("what watches that do not read did to the server and to others")
        .isEmpty();
  }
}
