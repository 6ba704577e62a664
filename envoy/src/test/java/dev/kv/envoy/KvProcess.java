package dev.kv.envoy;

import dev.kv.server.CommandRun;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The {@code kv} command line as users run it: {@code bin/kv}, a process of its own. */
final class KvProcess {

  private KvProcess() {}

  static CommandRun run(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(LocalSystem.ROOT.resolve("bin/kv").toString()));
    command.addAll(List.of(args));
    return CommandRun.ofProcess(command, Duration.ofSeconds(60));
  }
}
