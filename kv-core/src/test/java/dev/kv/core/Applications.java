package dev.kv.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Runs small applications that embed kv-core, each in a JVM of its own, as users do. */
public final class Applications {

  private Applications() {}

  /**
   * kv-core and what it needs at compile and at run time, as this test JVM has them (on its module
   * path or class path), without the tests themselves. The test libraries come along; the
   * applications do not use them.
   */
  public static List<String> kvCoreAndItsDependencies() {
    return Stream.of("jdk.module.path", "java.class.path")
        .map(System::getProperty)
        .filter(path -> path != null && !path.isEmpty())
        .flatMap(path -> Stream.of(path.split(File.pathSeparator)))
        .filter(entry -> !entry.endsWith("test-classes"))
        .toList();
  }

  public static String path(List<String> entries) {
    return entries.stream().collect(Collectors.joining(File.pathSeparator));
  }

  /** Runs {@code java} with {@code arguments}; returns what it printed, errors included. */
  public static String java(String... arguments) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(arguments));
    Process application = new ProcessBuilder(command).redirectErrorStream(true).start();
    String printed =
        new String(application.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(application.waitFor(30, TimeUnit.SECONDS)).as("exited").isTrue();
    return printed;
  }
}
