package dev.kv.core;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Finds the real programs that tests run, such as etcd and openssl; a missing one fails them. */
public final class Executables {

  private Executables() {}

  /**
   * The path of {@code name}: from the environment variable {@code variable} if set, else {@code
   * /usr/bin} (where Debian's packages put them), else the {@code PATH}.
   *
   * @param variable an environment variable naming the program, or null for none
   * @param install how to get it, for the message when it is missing, such as "apt-get install
   *     etcd-server"
   * @throws IllegalStateException when none of those holds it
   */
  public static String find(String name, String variable, String install) {
    List<String> candidates = new ArrayList<>();
    String configured = variable == null ? null : System.getenv(variable);
    if (configured != null && !configured.isBlank()) {
      candidates.add(configured);
    }
    candidates.add("/usr/bin/" + name);
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      candidates.add(Path.of(dir, name).toString());
    }
    return candidates.stream()
        .filter(path -> Files.isExecutable(Path.of(path)))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "these tests run "
                        + name
                        + ", and it is not installed: "
                        + install
                        + (variable == null ? "" : " (or set " + variable + ")")));
  }
}
