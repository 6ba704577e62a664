package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.config.HostPort;
import dev.kv.core.embedded.EmbeddedStore;
import dev.kv.core.grpc.GrpcErrors;
import dev.kv.core.remote.RemoteStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A prefix whose values add up to nearly five times kv-server's heap, listed by six clients in a
 * loop against a server process run as users run it (the launcher's heap and direct memory caps),
 * on the embedded store, on loopback: each page stops at its byte budget and arrives whole and in
 * order, a probe client's reads keep being answered, and the server stays up within bounded memory.
 * Before pages had a byte budget, every listing failed with INTERNAL: the server ran out of heap
 * building a 600 MB answer.
 *
 * <p>Prints the listings' pages by status, the probe's latency (p50, p99) before and during the
 * listings, and the server's peak resident memory.
 */
@Timeout(180)
class LargeListingTest {

  /**
   * Seven times the 60 values of 1.5 MB that exhausted the server's heap: 600 MB, nearly five times
   * the heap. Ten times (900 MB) took RocksDB 20 to 32 s to write on a busy 2-core machine, most of
   * this test's time.
   */
  private static final int VALUES = 400;

  private static final int VALUE_BYTES = 1_500_000;

  /** Writes together, which the store makes durable with one sync. */
  private static final int WRITES_IN_FLIGHT = 16;

  private static final int LISTERS = 6;

  /** How long the six clients list. */
  private static final Duration LISTING = Duration.ofSeconds(10);

  /** How long the probe reads before the listings start, for a baseline on the same machine. */
  private static final Duration BASELINE = Duration.ofSeconds(3);

  private static final Duration PROBE_INTERVAL = Duration.ofMillis(20);

  /** The deadline of every call: generous, so that a busy machine's delays are not failures. */
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

  /**
   * The bound on the server's peak resident memory (VmHWM). The launcher caps the heap (128 MB) and
   * direct buffers (64 MB), about 280 MB with the JVM's own start ({@link LoadServer}); RocksDB
   * adds its cache (64 MB) and what it reads and compacts with. Measured on a busy 2-core machine:
   * 168 to 244 MB at start, 334 to 366 MB after the listings.
   */
  private static final long MAX_PEAK_KB = 450L << 10;

  @TempDir Path dataDir;

  @AutoClose private final Closer closer = new Closer();

  @Test
  void listingAPrefixOfFiveHeaps_comesInBoundedPages_whileOthersAreServed() throws Exception {
    long written = write(dataDir);
    DaemonProcess daemon =
        closer.addToCloseFirst(
            DaemonProcess.startMain(
                DaemonProcess.launcherJvmOptions(),
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                dataDir.toString()));
    HostPort address = daemon.awaitListening();
    long peakAtStartKb = daemon.peakResidentKb();

    RemoteStore probeStore = connect(address);
    probeStore.set("probe", "small").get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    List<String> problems = new CopyOnWriteArrayList<>();
    List<Long> baseline = probeUntil(System.nanoTime() + BASELINE.toNanos(), probeStore, problems);
    ExecutorService threads = Executors.newFixedThreadPool(LISTERS + 1);
    closer.add(threads::shutdownNow);
    long end = System.nanoTime() + LISTING.toNanos();
    Map<String, LongAdder> pages = new ConcurrentHashMap<>();
    LongAdder listings = new LongAdder();
    List<CompletableFuture<Void>> listers = new ArrayList<>();
    for (int i = 0; i < LISTERS; i++) {
      RemoteStore store = connect(address);
      listers.add(
          CompletableFuture.runAsync(
              () -> listUntil(end, store, pages, listings, problems), threads));
    }
    CompletableFuture<List<Long>> probe =
        CompletableFuture.supplyAsync(() -> probeUntil(end, probeStore, problems), threads);
    CompletableFuture.allOf(listers.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
    List<Long> latencies = probe.get(120, TimeUnit.SECONDS);

    long peakKb = daemon.peakResidentKb();
    String output = daemon.output();
    System.out.printf(
        "large listing: %d values of %d bytes written in %.1f s; kv-server VmHWM at start %d MB;"
            + " probe latency before the listings p50 %.1f ms, p99 %.1f ms; %d listers for %d s:"
            + " pages by status %s, %d full listings (%d MB each); probe reads %d, latency p50"
            + " %.1f ms, p99 %.1f ms, slowest %.1f ms; kv-server VmHWM %d MB%n",
        VALUES,
        VALUE_BYTES,
        written / 1e9,
        peakAtStartKb >> 10,
        percentile(baseline, 50),
        percentile(baseline, 99),
        LISTERS,
        LISTING.toSeconds(),
        new TreeMap<>(pages),
        listings.sum(),
        (long) VALUES * VALUE_BYTES / 1_000_000,
        latencies.size(),
        percentile(latencies, 50),
        percentile(latencies, 99),
        percentile(latencies, 100),
        peakKb >> 10);
    assertThat(problems).as("what the listings and the probe met").isEmpty();
    assertThat(pages.keySet()).as("the listings' pages by status").containsOnly("OK");
    assertThat(latencies).as("the probe's reads").isNotEmpty();
    assertThat(daemon.isAlive()).as("the server is still running").isTrue();
    assertThat(output.lines().filter(line -> line.contains("OutOfMemoryError")))
        .as("the server's output")
        .isEmpty();
    assertThat(peakKb).as("the server's peak resident memory, kB").isLessThan(MAX_PEAK_KB);
  }

  /**
   * Writes the values into a store in {@code dataDir}, in this process: the server's write path is
   * not what this test is about, and RocksDB alone takes most of the time. Returns how long it
   * took, in nanoseconds.
   */
  private static long write(Path dataDir) throws Exception {
    long started = System.nanoTime();
    String filler = "v".repeat(VALUE_BYTES - 4);
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      List<CompletableFuture<Long>> writes = new ArrayList<>();
      for (int i = 0; i < VALUES; i++) {
        writes.add(store.set(key(i), number(i) + filler));
        if (writes.size() == WRITES_IN_FLIGHT || i == VALUES - 1) {
          CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new))
              .get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
          writes.clear();
        }
      }
    }
    return System.nanoTime() - started;
  }

  /** Lists the whole prefix, page after page, again and again until {@code end}. */
  private static void listUntil(
      long end,
      RemoteStore store,
      Map<String, LongAdder> pages,
      LongAdder listings,
      List<String> problems) {
    while (System.nanoTime() < end) {
      ListQuery query = ListQuery.prefix("big/");
      int listed = 0;
      Page page;
      do {
        try {
          page = store.list(query).get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
          pages.computeIfAbsent(codeOf(e), code -> new LongAdder()).increment();
          return;
        }
        pages.computeIfAbsent("OK", code -> new LongAdder()).increment();
        for (KeyValue entry : page.entries()) {
          if (!entry.key().equals(key(listed))
              || entry.value().length() != VALUE_BYTES
              || !entry.value().startsWith(number(listed))) {
            problems.add("listed " + entry.key() + " where " + key(listed) + " was expected");
            return;
          }
          listed++;
        }
        if (!page.more()) {
          break;
        }
        query = query.startAfter(page.entries().get(page.entries().size() - 1).key());
      } while (System.nanoTime() < end);
      if (!page.more()) {
        if (listed != VALUES) {
          problems.add("a full listing gave " + listed + " of " + VALUES + " values");
        }
        listings.increment();
      }
    }
  }

  /** Reads one small key every {@link #PROBE_INTERVAL} until {@code end}; returns the latencies. */
  private static List<Long> probeUntil(long end, RemoteStore store, List<String> problems) {
    List<Long> latencies = new ArrayList<>();
    while (System.nanoTime() < end) {
      long started = System.nanoTime();
      try {
        store.get("probe").get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        latencies.add(System.nanoTime() - started);
      } catch (Exception e) {
        problems.add("a probe read failed with " + codeOf(e));
      }
      try {
        Thread.sleep(PROBE_INTERVAL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return latencies;
  }

  private static double percentile(List<Long> nanos, int percent) {
    if (nanos.isEmpty()) {
      return Double.NaN;
    }
    List<Long> sorted = nanos.stream().sorted().toList();
    int index = Math.min(sorted.size() - 1, (int) Math.ceil(percent / 100.0 * sorted.size()) - 1);
    return sorted.get(Math.max(0, index)) / 1e6;
  }

  private RemoteStore connect(HostPort address) {
    return closer.add(RemoteStore.connect(address, CALL_TIMEOUT));
  }

  private static String key(int i) {
    return "big/" + number(i);
  }

  /** How each key ends and its value starts, so that a listing that mixes them up shows. */
  private static String number(int i) {
    return String.format("%04d", i);
  }

  /** The status code a call failed with, as the client saw it. */
  private static String codeOf(Throwable error) {
    Throwable cause = GrpcErrors.unwrap(error);
    return cause instanceof KvException kv ? kv.code().name() : cause.toString();
  }
}
