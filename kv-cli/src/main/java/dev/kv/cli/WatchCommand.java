package dev.kv.cli;

import com.google.gson.JsonObject;
import dev.kv.core.KvException;
import dev.kv.core.Watch;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchListener;
import dev.kv.core.WatchQuery;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    description = {
      "Prints every change to KEY (or with --prefix, to every key under it) as it happens, until "
          + "interrupted: 'PUT key value' or 'DELETE key', one per line; with -o json, one "
          + "object per line with its revision.",
      "With --rev, starts from that past revision, so that nothing since is missed."
    })
final class WatchCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "KEY", description = "The key, or the prefix, to watch.")
  String key;

  @Option(names = "--prefix", description = "Watch every key that starts with KEY.")
  boolean prefix;

  @Option(
      names = "--rev",
      paramLabel = "N",
      defaultValue = "0",
      description = "Start from revision N, past changes included (default: from now on).")
  long revision;

  @Option(
      names = "--count",
      paramLabel = "N",
      description = "Exit after N changes, for example 1 to wait for the next one.")
  Long count;

  @Mixin ValueFormat values;

  // The watch is held open, not used, while the command waits for its end.
  @SuppressWarnings("try")
  @Override
  public Integer call() throws InterruptedException {
    if (revision < 0 || (count != null && count < 1)) {
      throw new ParameterException(
          spec.commandLine(), "--rev takes 0 or more, and --count 1 or more");
    }
    PrintWriter out = spec.commandLine().getOut();
    CompletableFuture<Void> done = new CompletableFuture<>();
    AtomicLong left = new AtomicLong(count == null ? Long.MAX_VALUE : count);
    WatchQuery query =
        (prefix ? WatchQuery.prefix(key) : WatchQuery.key(key)).fromRevision(revision);
    try (Watch watch =
        kv.store()
            .watch(
                query,
                new WatchListener() {
                  @Override
                  public void onEvent(WatchEvent event) {
                    if (left.getAndDecrement() > 0) {
                      print(out, event);
                    }
                    if (left.get() <= 0) {
                      done.complete(null);
                    }
                  }

                  @Override
                  public void onError(KvException error) {
                    done.completeExceptionally(error);
                  }
                })) {
      done.get();
    } catch (ExecutionException e) {
      throw (KvException) e.getCause();
    }
    return ExitCodes.OK;
  }

  private void print(PrintWriter out, WatchEvent event) {
    synchronized (out) {
      if (kv.output == Output.json) {
        JsonObject object = Output.entry(event.entry(), event.type() == WatchEvent.Type.PUT);
        object.addProperty("type", event.type().name());
        Output.print(out, object);
      } else if (event.type() == WatchEvent.Type.PUT) {
        out.println("PUT " + event.entry().key() + " " + values.of(event.entry()));
      } else {
        out.println("DELETE " + event.entry().key());
      }
      out.flush();
    }
  }
}
