package dev.kv.envoy;

import dev.kv.server.CommandRun;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The {@code kv} command line as users run it: {@code bin/kv}, a process of its own. */
final class KvProcess {

  private KvProcess() {}

  static CommandRun run(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(LocalSystem.ROOT.resolve("bin/kv").toString()));
    command.addAll(List.of(args));
    Process process =
        new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.DISCARD.file()).start();
    CompletableFuture<String> out =
        CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
    CompletableFuture<String> err =
        CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("kv " + String.join(" ", args) + " did not end within 60 s");
    }
    return new CommandRun(process.exitValue(), out.get(), err.get());
  }

  private static String read(InputStream stream) {
    try (stream) {
      return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
