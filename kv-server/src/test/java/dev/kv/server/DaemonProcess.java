package dev.kv.server;

import dev.kv.core.config.HostPort;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A kv-server running as a process of its own, for tests of the daemon as users run it. */
public final class DaemonProcess implements AutoCloseable {

  private static final Pattern LISTENING = Pattern.compile("listening on ([^\\s\"]+)");

  private final Process process;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final StringBuilder seen = new StringBuilder();

  private DaemonProcess(ProcessBuilder builder) throws Exception {
    this.process = builder.redirectErrorStream(true).start();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                in.lines().forEach(lines::add);
              } catch (Exception e) {
                lines.add("(output unreadable: " + e + ")");
              }
            },
            "daemon-output");
    reader.setDaemon(true);
    reader.start();
  }

  /** Runs {@code command}, such as a launcher script, with its output collected. */
  public static DaemonProcess start(List<String> command) throws Exception {
    return new DaemonProcess(new ProcessBuilder(command));
  }

  /** Runs {@link Main} in a new JVM on this test's class path. */
  public static DaemonProcess startMain(String... args) throws Exception {
    return startMain(List.of(), args);
  }

  /** Runs {@link Main} in a new JVM started with {@code jvmOptions}, such as {@code -Xmx128m}. */
  public static DaemonProcess startMain(List<String> jvmOptions, String... args) throws Exception {
    return startMain(jvmOptions, Map.of(), args);
  }

  /**
   * Runs {@link Main} in a new JVM started as bin/kv-server starts it, with its bounds on memory,
   * so that the server runs as users run it.
   */
  public static DaemonProcess startAsLauncher(String... args) throws Exception {
    return startMain(launcherJvmOptions(), args);
  }

  /** The JVM options bin/kv starts kv-server with. */
  public static List<String> launcherJvmOptions() throws IOException {
    Path launcher = Path.of(System.getProperty("kv.root", ".."), "bin", "kv");
    // Within the launcher's kv-server branch: up to its ";;".
    Matcher options =
        Pattern.compile("kv-server\\)(?:(?!;;)[\\s\\S])*?jvm_opts=\"([^\"]+)\"")
            .matcher(Files.readString(launcher));
    if (!options.find()) {
      throw new AssertionError("no jvm_opts for kv-server in " + launcher);
    }
    return Arrays.asList(options.group(1).trim().split("\\s+"));
  }

  /** Runs {@link Main} in a new JVM with {@code environment} added to this one's. */
  public static DaemonProcess startMain(Map<String, String> environment, String... args)
      throws Exception {
    return startMain(List.of(), environment, args);
  }

  /**
   * Runs {@link Main} in a new JVM started with {@code jvmOptions} and {@code environment} added to
   * this one's.
   */
  public static DaemonProcess startMain(
      List<String> jvmOptions, Map<String, String> environment, String... args) throws Exception {
    return startJava(Main.class, jvmOptions, environment, args);
  }

  /** Runs the {@code main} method of {@code mainClass} in a new JVM on this test's class path. */
  public static DaemonProcess startJava(
      Class<?> mainClass, List<String> jvmOptions, Map<String, String> environment, String... args)
      throws Exception {
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    List<String> command = new ArrayList<>(List.of(java));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(environment);
    return new DaemonProcess(builder);
  }

  /** The process id, for reading what the system says of the process, such as its memory. */
  public long pid() {
    return process.pid();
  }

  /** The most memory the process has had resident so far (VmHWM), in KiB. */
  public long peakResidentKb() throws IOException {
    Matcher peak =
        Pattern.compile("(?m)^VmHWM:\\s+(\\d+)")
            .matcher(Files.readString(Path.of("/proc", String.valueOf(pid()), "status")));
    if (!peak.find()) {
      throw new AssertionError("no VmHWM for process " + pid());
    }
    return Long.parseLong(peak.group(1));
  }

  /** Whether the process is still running. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** Everything the process has written so far, standard output and error together. */
  public synchronized String output() {
    for (String line = lines.poll(); line != null; line = lines.poll()) {
      seen.append(line).append('\n');
    }
    return seen.toString();
  }

  /**
   * What is wrong with the process: it ended, or {@code output} (what it wrote) names an
   * OutOfMemoryError or an uncaught exception.
   */
  public List<String> problems(String output) {
    List<String> problems = new ArrayList<>();
    if (!isAlive()) {
      problems.add("the server process ended");
    }
    output
        .lines()
        .filter(line -> line.contains("OutOfMemoryError") || line.contains("Exception in thread"))
        .findFirst()
        .ifPresent(line -> problems.add("the server's output says: " + line));
    return problems;
  }

  /** Waits for the line that says where the server listens. */
  public HostPort awaitListening() throws InterruptedException {
    return HostPort.parse(awaitLine(LISTENING).group(1));
  }

  /**
   * Waits up to 90 seconds for an output line matching {@code pattern}: a JVM starting on a busy
   * machine may take a good part of that.
   */
  public synchronized Matcher awaitLine(Pattern pattern) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      String line = lines.poll(100, TimeUnit.MILLISECONDS);
      if (line != null) {
        seen.append(line).append('\n');
        Matcher matcher = pattern.matcher(line);
        if (matcher.find()) {
          return matcher;
        }
      }
    }
    throw new AssertionError("no line matching " + pattern + " in the output:\n" + seen);
  }

  /** Sends SIGTERM and returns the exit code, or fails after 30 seconds. */
  public int terminate() throws InterruptedException {
    process.toHandle().destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("the server did not stop within 30s of SIGTERM");
    }
    return process.exitValue();
  }

  /** Kills the server with SIGKILL, as a crash would, and waits for it to be gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("the server did not end within 30s of SIGKILL");
    }
  }

  @Override
  public void close() {
    process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }
}
