package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.cli.ConsoleExamples.Block;
import dev.kv.cli.ConsoleExamples.Command;
import dev.kv.server.DaemonProcess;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's walkthrough, as a newcomer follows it: every {@code $ } line of its {@code console}
 * blocks, in order, through bash, against {@code bin/kv-server} started as the quick start says (on
 * a fresh embedded store), and each prints what the README shows under it. Blocks marked {@code
 * <!-- not run: REASON -->} need another setup and are left out.
 *
 * <p>The commands run in a directory of their own, where {@code bin/kv} is this checkout's, so that
 * files they make stay out of the repository. {@code KV_SERVER} points them at this test's server,
 * on a free port. Each line has a bash of its own: files carry over to the next lines, and {@code
 * $?} (the exit code of the line before), but not {@code cd} or variables.
 */
@Timeout(180)
class ReadmeIT {

  private static final Path ROOT = Path.of(System.getProperty("kv.root")).toAbsolutePath();
  private static final Path README = ROOT.resolve("README.md");
  private static final long COMMAND_TIMEOUT_SECONDS = 30;

  @TempDir Path temp;

  private Path work;
  private String server;
  private String javaOptions = "";

  @Test
  void consoleExamples_printWhatTheReadmeShows_onAFreshServer() throws Exception {
    List<Command> commands =
        ConsoleExamples.parse(Files.readAllLines(README)).stream()
            .filter(block -> block.notRun() == null)
            .map(Block::commands)
            .flatMap(List::stream)
            .toList();
    assertThat(commands).as("commands to run in README.md").hasSizeGreaterThan(10);
    work = workingDirectory();

    List<String> mismatches = new ArrayList<>();
    try (DaemonProcess daemon = startServer()) {
      server = daemon.awaitListening().toString();
      shareClasses();
      int exitCode = 0;
      for (int i = 0; i < commands.size(); i++) {
        Command command = commands.get(i);
        Ran ran = run("(exit " + exitCode + "); " + command.text());
        if (!ran.finished()) {
          mismatches.add(describe(command, ran) + "\n  " + stillRunning());
          break;
        }
        exitCode = ran.exitCode();
        boolean exitShown =
            exitCode == 0
                || (i + 1 < commands.size() && commands.get(i + 1).text().equals("echo $?"));
        if (!command.printed(ran.printed())) {
          mismatches.add(describe(command, ran));
        } else if (!exitShown) {
          mismatches.add(
              describe(command, ran)
                  + "\n  and exited "
                  + exitCode
                  + ", which no `$ echo $?` after it shows");
        }
      }
    } finally {
      // Only the links: JUnit would delete them too, but warns that they lead out of its directory.
      Files.delete(work.resolve("bin"));
      Files.delete(work.resolve("kv-cli"));
    }
    if (!mismatches.isEmpty()) {
      throw new AssertionError(
          mismatches.size()
              + " README example(s) print something else on a fresh server:\n\n"
              + String.join("\n\n", mismatches));
    }
  }

  /** {@code bin/kv-server} as the quick start runs it, on a free port and a fresh data dir. */
  private DaemonProcess startServer() throws Exception {
    return DaemonProcess.start(
        List.of(
            ROOT.resolve("bin/kv-server").toString(),
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            temp.resolve("kv-data").toString()));
  }

  /**
   * A directory in which {@code bin/kv} is this checkout's: the launcher finds the jar from where
   * it is called, so the build output is linked beside it.
   */
  private Path workingDirectory() throws Exception {
    Path directory = Files.createDirectory(temp.resolve("work"));
    Files.createSymbolicLink(directory.resolve("bin"), ROOT.resolve("bin"));
    Files.createSymbolicLink(directory.resolve("kv-cli"), ROOT.resolve("kv-cli"));
    return directory;
  }

  /**
   * Every command starts a JVM: the classes that a first {@code kv} call loads, archived as it
   * exits, then shared by every later one, halve their start-up. Only speed changes, not what they
   * print; the first call, a read of a key never written, changes nothing on the server.
   */
  private void shareClasses() throws Exception {
    Path archive = temp.resolve("kv-classes.jsa");
    javaOptions = "-XX:ArchiveClassesAtExit=" + archive;
    run("bin/kv get not-in-the-readme");
    javaOptions = Files.exists(archive) ? "-XX:SharedArchiveFile=" + archive : "";
  }

  /** What one line printed, its output and errors together as a terminal shows them. */
  private record Ran(boolean finished, int exitCode, List<String> printed) {}

  private Ran run(String line) throws Exception {
    Path output = temp.resolve("output");
    ProcessBuilder builder =
        new ProcessBuilder("bash", "-c", line)
            .directory(work.toFile())
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .redirectInput(new File("/dev/null"));
    // Only this test's server and options: no setting of this machine may change the output.
    builder
        .environment()
        .keySet()
        .removeIf(name -> name.startsWith("KV_") || name.matches("_?JAVA_(TOOL_)?OPTIONS"));
    builder.environment().put("KV_SERVER", server);
    builder.environment().put("JAVA_OPTS", javaOptions);
    Process process = builder.start();
    boolean finished = process.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    if (!finished) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly().waitFor();
    }
    List<String> printed = Files.readAllLines(output, StandardCharsets.UTF_8);
    return new Ran(finished, finished ? process.exitValue() : -1, printed);
  }

  private static String stillRunning() {
    return "and was still running after "
        + COMMAND_TIMEOUT_SECONDS
        + "s: a block that waits for ever needs <!-- not run: REASON --> before it";
  }

  private static String describe(Command command, Ran ran) {
    StringBuilder text = new StringBuilder("README.md:" + command.line() + ": $ " + command.text());
    text.append("\n  shown:");
    command.output().forEach(line -> text.append("\n    ").append(line));
    text.append("\n  printed:");
    ran.printed().forEach(line -> text.append("\n    ").append(line));
    return text.toString();
  }
}
