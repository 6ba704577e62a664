package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.kv.api.KVGrpc;
import dev.kv.api.WatchRequest;
import dev.kv.core.config.HostPort;
import dev.kv.core.remote.RemoteStore;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One large value written to a key that thousands of watches cover, half of them on clients that
 * never read, against kv-server as users run it (the launcher's memory settings), on loopback. Each
 * event is encoded once and the copies handed to the network are bounded, so the server stays up
 * and answers; every reading watch gets every change, once and in order; and each watch whose
 * client does not read is ended with {@code RESOURCE_EXHAUSTED}, naming the revision to watch again
 * from.
 *
 * <p>Prints the latency of health checks made all along, and the server's peak memory and threads.
 */
@Timeout(120)
class WatchFanOutTest {

  private static final int READERS = 1000;
  private static final int NON_READERS = 1000;

  /** Connections for each half: HTTP/2 lets at most 1,000 streams share one (the default). */
  private static final int CONNECTIONS = 4;

  /**
   * The values written, in KiB, up to the size limit ({@link Limits#DEFAULTS}), to the key every
   * watch covers and to another one that only the watches that do not read cover: enough to take
   * those past what a watch may fall behind, with less for the reading ones to read.
   */
  private static final List<Write> WRITES =
      List.of(
          new Write("fan/k", 100),
          new Write("fan/k", 1520),
          new Write("fan/more", 1520),
          new Write("fan/k", 300),
          new Write("fan/more", 1520),
          new Write("fan/more", 1520));

  /** The bound: health checks answer within a second all along. */
  private static final Duration PROBE_DEADLINE = Duration.ofSeconds(1);

  /**
   * Bounds for a busy machine, not measures; within the test's timeout even when the server does
   * not cope, so that the test says what it saw.
   */
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

  private static final Duration CATCH_UP = Duration.ofSeconds(30);

  private static final Duration TO_END = Duration.ofSeconds(15);

  /** Threads the server may have: its pools are bounded, so a few dozen whatever the load. */
  private static final long MAX_THREADS = 100;

  private static final Pattern RESUME_FROM = Pattern.compile("watch again from revision (\\d+)");

  @AutoClose private final Closer closer = new Closer();

  @ParameterizedTest(name = "{0} store")
  @ValueSource(strings = {"memory", "embedded"})
  void largeValues_toThousandsOfWatches_halfNotReading_serverAnswers_readersMissNothing(
      String store, @TempDir Path dataDir) throws Exception {
    List<String> args = new ArrayList<>(List.of("--store", store, "--listen", "127.0.0.1:0"));
    if (store.equals("embedded")) {
      args.addAll(
          List.of("--data-dir", Files.createDirectories(dataDir.resolve("data")).toString()));
    }
    DaemonProcess daemon =
        closer.addToCloseFirst(
            DaemonProcess.startMain(
                DaemonProcess.launcherJvmOptions(), args.toArray(String[]::new)));
    HostPort address = daemon.awaitListening();
    UsageSampler usage = closer.add(new UsageSampler(daemon.pid()));
    Usage atStart = usage.now();

    // Each half on connections of its own: on one connection, streams whose client does not read
    // use up the window HTTP/2 gives the whole connection, and hold up the others.
    List<Reader> readers = new ArrayList<>();
    List<NonReader> nonReaders = new ArrayList<>();
    for (int c = 0; c < CONNECTIONS; c++) {
      ManagedChannel toReaders = channel(address);
      ManagedChannel toNonReaders = channel(address);
      for (int i = c; i < READERS; i += CONNECTIONS) {
        readers.add(new Reader(toReaders));
      }
      for (int i = c; i < NON_READERS; i += CONNECTIONS) {
        nonReaders.add(new NonReader(toNonReaders));
      }
    }
    List<CompletableFuture<?>> starts = new ArrayList<>();
    readers.forEach(reader -> starts.add(reader.watch.created));
    nonReaders.forEach(nonReader -> starts.add(nonReader.watch.created));
    CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new))
        .get(CATCH_UP.toMillis(), TimeUnit.MILLISECONDS);

    // The probe's connection has a network thread of its own in this process, which the watches'
    // large answers do not hold up: its latency is the server's.
    EventLoopGroup probeThread = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    closer.add(() -> probeThread.shutdownGracefully(0, 5, TimeUnit.SECONDS));
    Probe probe =
        Probe.start(
            channel(
                NettyChannelBuilder.forAddress(address.host(), address.port())
                    .eventLoopGroup(probeThread)
                    .channelType(NioSocketChannel.class)));
    RemoteStore writer = closer.add(RemoteStore.connect(address, CALL_TIMEOUT));
    List<Long> written = new ArrayList<>();
    List<Long> writtenToK = new ArrayList<>();
    List<String> writeFailures = new ArrayList<>();
    long started = System.nanoTime();
    for (int i = 0; i < WRITES.size(); i++) {
      Write write = WRITES.get(i);
      String value = i + "x".repeat((write.kib() << 10) - 1);
      try {
        long revision =
            writer.set(write.key(), value).get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        written.add(revision);
        if (write.key().equals(Reader.KEY)) {
          writtenToK.add(revision);
        }
      } catch (Exception e) {
        writeFailures.add("a set failed: " + e);
        break;
      }
    }
    List<String> problems = new ArrayList<>(writeFailures);
    awaitOrNote(
        problems,
        "every reading watch to get every change",
        CATCH_UP,
        () -> readers.stream().allMatch(reader -> reader.caughtUpWith(writtenToK)));
    double seconds = (System.nanoTime() - started) / 1e9;
    Usage afterWriting = usage.now();

    // The clients that did not read now read what was left for them, and how their watch ended.
    nonReaders.forEach(NonReader::readTheRest);
    awaitOrNote(
        problems,
        "the watches that did not read to end",
        TO_END,
        () ->
            nonReaders.stream()
                .allMatch(nonReader -> !nonReader.check(written).startsWith("not ended")));
    probe.stop();

    Map<String, Integer> readerOutcomes = new TreeMap<>();
    readers.forEach(reader -> readerOutcomes.merge(reader.check(writtenToK), 1, Integer::sum));
    readerOutcomes.forEach(
        (outcome, count) -> {
          if (!outcome.startsWith("every change")) {
            problems.add(count + " reading watches: " + outcome);
          }
        });
    Map<String, Integer> nonReaderOutcomes = new TreeMap<>();
    nonReaders.forEach(
        nonReader -> nonReaderOutcomes.merge(nonReader.check(written), 1, Integer::sum));
    nonReaderOutcomes.forEach(
        (outcome, count) -> {
          if (!outcome.startsWith("RESOURCE_EXHAUSTED") && !outcome.endsWith("not behind")) {
            problems.add(count + " watches that did not read: " + outcome);
          }
        });
    problems.addAll(probe.problems());
    problems.addAll(daemon.problems(daemon.output()));
    Usage atEnd = usage.now();
    if (usage.mostThreads() > MAX_THREADS) {
      problems.add("the server had " + usage.mostThreads() + " threads, beyond " + MAX_THREADS);
    }

    System.out.printf(
        "watch fan-out, %s store: %d reading watches and %d that do not read, on %d connections"
            + " each; %d sets (key, KiB) %s in %.1f s (until every reader had them); health checks"
            + " during it: %s; readers %s; the others %s; kv-server at start %s, after writing %s,"
            + " at end %s, peak VmHWM %d MB, most threads %d%n",
        store,
        READERS,
        NON_READERS,
        CONNECTIONS,
        written.size(),
        WRITES,
        seconds,
        probe,
        abbreviate(readerOutcomes),
        abbreviate(nonReaderOutcomes),
        atStart,
        afterWriting,
        atEnd,
        atEnd.hwmKb() >> 10,
        usage.mostThreads());
    assertThat(problems).as("what the fan-out did to the server and its clients").isEmpty();
  }

  private ManagedChannel channel(HostPort address) {
    return channel(NettyChannelBuilder.forAddress(address.host(), address.port()));
  }

  private ManagedChannel channel(NettyChannelBuilder builder) {
    ManagedChannel channel = builder.usePlaintext().build();
    closer.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return channel;
  }

  /** Waits up to {@code atMost} for {@code done}, noting among the problems if it is not. */
  private static void awaitOrNote(
      List<String> problems, String what, Duration atMost, Callable<Boolean> done) {
    try {
      Awaitility.await().atMost(atMost).pollInterval(Duration.ofMillis(100)).until(done);
    } catch (ConditionTimeoutException e) {
      problems.add("waited " + atMost + " for " + what + " in vain");
    }
  }

  /** The outcomes by how many had them, the ten most common. */
  private static String abbreviate(Map<String, Integer> outcomes) {
    List<Map.Entry<String, Integer>> sorted = new ArrayList<>(outcomes.entrySet());
    sorted.sort(Map.Entry.<String, Integer>comparingByValue().reversed());
    return sorted.subList(0, Math.min(10, sorted.size())).toString()
        + (sorted.size() > 10 ? " and " + (sorted.size() - 10) + " more" : "");
  }

  private record Write(String key, int kib) {
    @Override
    public String toString() {
      return key + " " + kib;
    }
  }

  /**
   * A watch on a raw call, which reads of each answer only what the test checks: a client that
   * decoded every large value would take the processors the server needs.
   */
  private static final class RawWatch {
    private static final MethodDescriptor<WatchRequest, Answer> METHOD =
        KVGrpc.getWatchMethod().toBuilder(
                KVGrpc.getWatchMethod().getRequestMarshaller(), Answer.MARSHALLER)
            .build();

    final CompletableFuture<Boolean> created = new CompletableFuture<>();
    final CompletableFuture<Status> ended = new CompletableFuture<>();
    final List<Long> revisions = new ArrayList<>();
    final ClientCall<WatchRequest, Answer> call;

    /** Opens a watch whose client takes {@code answers} answers, the first the created one. */
    RawWatch(ManagedChannel channel, WatchRequest request, int answers) {
      call = channel.newCall(METHOD, CallOptions.DEFAULT);
      call.start(
          new ClientCall.Listener<>() {
            @Override
            public void onMessage(Answer answer) {
              if (answer.created()) {
                created.complete(true);
              } else {
                synchronized (RawWatch.this) {
                  revisions.add(answer.revision());
                }
              }
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
              created.completeExceptionally(status.asRuntimeException());
              ended.complete(status);
            }
          },
          new Metadata());
      call.request(answers);
      call.sendMessage(request);
      call.halfClose();
    }

    synchronized List<Long> revisions() {
      return List.copyOf(revisions);
    }
  }

  /** A watch on the key every watch covers, whose client reads all it is sent. */
  private static final class Reader {
    static final String KEY = "fan/k";

    final RawWatch watch;

    Reader(ManagedChannel channel) {
      watch =
          new RawWatch(channel, WatchRequest.newBuilder().setKey(KEY).build(), Integer.MAX_VALUE);
    }

    boolean caughtUpWith(List<Long> written) {
      List<Long> revisions = watch.revisions();
      return watch.ended.isDone()
          || (!written.isEmpty()
              && !revisions.isEmpty()
              && revisions.get(revisions.size() - 1) >= written.get(written.size() - 1));
    }

    String check(List<Long> written) {
      Status status = watch.ended.getNow(null);
      if (status != null) {
        return "ended with " + status.getCode() + ": " + status.getDescription();
      }
      List<Long> revisions = watch.revisions();
      return revisions.equals(written)
          ? "every change, once, in order"
          : "got revisions " + revisions + ", not " + written;
    }
  }

  /**
   * A watch on every key under fan/, whose client takes the {@code created} answer and then reads
   * nothing, as a client that hangs would, until it is told to read the rest.
   */
  private static final class NonReader {
    final RawWatch watch;

    NonReader(ManagedChannel channel) {
      watch =
          new RawWatch(
              channel, WatchRequest.newBuilder().setKey("fan/").setPrefix(true).build(), 1);
    }

    void readTheRest() {
      watch.call.request(Integer.MAX_VALUE);
    }

    /**
     * RESOURCE_EXHAUSTED naming the revision after the last change it got, or what went wrong. The
     * changes it got come first, in order. A watch whose client took every change in its buffers
     * was not behind, and goes on.
     */
    String check(List<Long> written) {
      Status status = watch.ended.getNow(null);
      List<Long> revisions = watch.revisions();
      if (!revisions.equals(written.subList(0, Math.min(revisions.size(), written.size())))) {
        return "got revisions " + revisions + ", not the first ones of " + written;
      }
      if (status == null) {
        return revisions.equals(written)
            ? "every change, its client's buffers took them: not behind"
            : "not ended, after revisions " + revisions;
      }
      if (status.getCode() != Status.Code.RESOURCE_EXHAUSTED) {
        return status.getCode() + ": " + status.getDescription();
      }
      Matcher resume = RESUME_FROM.matcher(String.valueOf(status.getDescription()));
      long expected =
          revisions.size() < written.size() ? written.get(revisions.size()) : Long.MAX_VALUE;
      if (!resume.find() || Long.parseLong(resume.group(1)) != expected) {
        return "RESOURCE_EXHAUSTED not naming revision "
            + expected
            + ": "
            + status.getDescription();
      }
      return "RESOURCE_EXHAUSTED after " + revisions.size() + " changes, naming the next revision";
    }
  }

  /** What the test reads of a watch response: whether it is the created one, and the revision. */
  private record Answer(boolean created, long revision) {
    static final MethodDescriptor.Marshaller<Answer> MARSHALLER =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(Answer answer) {
            throw new UnsupportedOperationException("the test only reads answers");
          }

          @Override
          public Answer parse(InputStream stream) {
            try {
              CodedInputStream input = CodedInputStream.newInstance(stream);
              boolean created = false;
              long revision = 0;
              for (int tag = input.readTag(); tag != 0; tag = input.readTag()) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                  case 2 -> revision = modRevision(input); // entry
                  case 3 -> created = input.readBool();
                  case 4 -> revision = input.readInt64(); // with created
                  default -> input.skipField(tag);
                }
              }
              return new Answer(created, revision);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }

          /** The mod_revision of an Entry, skipping its value. */
          private long modRevision(CodedInputStream input) throws IOException {
            int limit = input.pushLimit(input.readRawVarint32());
            long revision = 0;
            for (int tag = input.readTag(); tag != 0; tag = input.readTag()) {
              if (WireFormat.getTagFieldNumber(tag) == 4) {
                revision = input.readInt64();
              } else {
                input.skipField(tag);
              }
            }
            input.popLimit(limit);
            return revision;
          }
        };
  }

  /** Health checks, one after the other, each with a deadline of one second. */
  private static final class Probe {
    private final List<Long> micros = new ArrayList<>();
    private final Map<String, Integer> failures = new TreeMap<>();
    private final Thread thread;
    private volatile boolean stopped;

    private Probe(ManagedChannel channel) {
      HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
      this.thread =
          new Thread(
              () -> {
                while (!stopped) {
                  long start = System.nanoTime();
                  String outcome;
                  try {
                    HealthCheckResponse response =
                        health
                            .withDeadlineAfter(PROBE_DEADLINE.toNanos(), TimeUnit.NANOSECONDS)
                            .check(HealthCheckRequest.newBuilder().setService("").build());
                    outcome = response.getStatus().name();
                  } catch (RuntimeException e) {
                    outcome = Status.fromThrowable(e).getCode().name();
                  }
                  long took = (System.nanoTime() - start) / 1000;
                  synchronized (this) {
                    if (outcome.equals("SERVING")) {
                      micros.add(took);
                    } else {
                      failures.merge(outcome, 1, Integer::sum);
                    }
                  }
                  try {
                    Thread.sleep(20);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "health-probe");
    }

    static Probe start(ManagedChannel channel) {
      Probe probe = new Probe(channel);
      probe.thread.start();
      return probe;
    }

    void stop() throws InterruptedException {
      stopped = true;
      thread.join(PROBE_DEADLINE.plusSeconds(5).toMillis());
    }

    synchronized List<String> problems() {
      List<String> problems = new ArrayList<>();
      if (!failures.isEmpty()) {
        problems.add("health checks that did not answer SERVING within 1 s: " + failures);
      }
      if (micros.isEmpty()) {
        problems.add("no health check answered");
      }
      return problems;
    }

    @Override
    public synchronized String toString() {
      List<Long> sorted = new ArrayList<>(micros);
      sorted.sort(null);
      return sorted.isEmpty()
          ? "none answered, failures " + failures
          : String.format(
              "%d answered, p50 %.1f ms, p99 %.1f ms, slowest %.1f ms, failures %s",
              sorted.size(),
              sorted.get(sorted.size() / 2) / 1000.0,
              sorted.get(Math.min(sorted.size() - 1, sorted.size() * 99 / 100)) / 1000.0,
              sorted.get(sorted.size() - 1) / 1000.0,
              failures);
    }
  }
}
