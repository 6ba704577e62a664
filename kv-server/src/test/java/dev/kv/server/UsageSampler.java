package dev.kv.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a process's usage from /proc, now and every 100 ms, keeping the highest VmRSS. */
final class UsageSampler implements AutoCloseable {
  private static final Pattern FIELD = Pattern.compile("(?m)^(VmRSS|VmHWM|Threads):\\s+(\\d+)");

  /** The unit of the times in /proc/PID/stat (USER_HZ), 100 on Linux. */
  private static final double TICKS_PER_SECOND = 100;

  private final Path status;
  private final Path stat;
  private final AtomicLong highestRssKb = new AtomicLong();
  private final AtomicLong mostThreads = new AtomicLong();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

  UsageSampler(long pid) {
    this.status = Path.of("/proc", String.valueOf(pid), "status");
    this.stat = Path.of("/proc", String.valueOf(pid), "stat");
    timer.scheduleAtFixedRate(
        () -> {
          try {
            now();
          } catch (RuntimeException e) {
            // The process is gone; the test says so.
          }
        },
        0,
        100,
        TimeUnit.MILLISECONDS);
  }

  Usage now() {
    String text;
    String times;
    try {
      text = Files.readString(status);
      times = Files.readString(stat);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + status + ": " + e, e);
    }
    // utime and stime, fields 14 and 15, counted after the command name in parentheses.
    String[] fromState = times.substring(times.lastIndexOf(')') + 2).split(" ");
    double cpuSeconds =
        (Long.parseLong(fromState[11]) + Long.parseLong(fromState[12])) / TICKS_PER_SECOND;
    Map<String, Long> fields = new HashMap<>();
    Matcher matcher = FIELD.matcher(text);
    while (matcher.find()) {
      fields.put(matcher.group(1), Long.parseLong(matcher.group(2)));
    }
    Usage now =
        new Usage(fields.get("VmRSS"), fields.get("VmHWM"), fields.get("Threads"), cpuSeconds);
    highestRssKb.accumulateAndGet(now.rssKb(), Math::max);
    mostThreads.accumulateAndGet(now.threads(), Math::max);
    return now;
  }

  long highestRssKb() {
    return highestRssKb.get();
  }

  /** The most threads the process had in any sample. */
  long mostThreads() {
    return mostThreads.get();
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
