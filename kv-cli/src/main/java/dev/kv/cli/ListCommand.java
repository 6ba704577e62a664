package dev.kv.cli;

import com.google.gson.JsonObject;
import dev.kv.core.KeyValue;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    description = {
      "Lists the keys that start with PREFIX (every key without one), in key order: one per "
          + "line, followed by a tab and its value unless --keys-only; with -o json, one entry "
          + "per line.",
      "A listing of many pages is one view of the store: every page is read at the revision of "
          + "the first (or at --rev).",
      "When --limit stops it before the last key, it says where the next page starts: with "
          + "-o json, a last line {\"more\":true,\"startAfter\":KEY}; otherwise a line on "
          + "standard error. Pass KEY to --start-after.",
      "A value another etcd client wrote that is not UTF-8 text shows as <not text: N bytes; "
          + "--hex shows it>, or in JSON as valueBase64."
    })
final class ListCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Parameters(
      paramLabel = "PREFIX",
      arity = "0..1",
      defaultValue = "",
      description = "List only the keys that start with it.")
  String prefix;

  @Option(
      names = "--limit",
      paramLabel = "N",
      description = "List at most N keys (default: all of them, fetched a page at a time).")
  Integer limit;

  @Option(
      names = "--start-after",
      paramLabel = "KEY",
      defaultValue = "",
      description = "List only keys after KEY: the last one a previous listing printed.")
  String startAfter;

  @Option(
      names = "--rev",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "List the keys as they were at revision N (default: the latest). etcd keeps past"
              + " revisions until it compacts them; the embedded and memory stores rebuild them"
              + " from the changes their history keeps (the last 10,000 revisions or changes),"
              + " and keep a listing's own for 2 minutes after its last page. A revision no"
              + " longer kept exits 4.")
  long revision;

  @Option(names = "--keys-only", description = "Print the keys without their values.")
  boolean keysOnly;

  @Mixin ValueFormat values;

  @Override
  public Integer call() {
    if (limit != null && limit < 1) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--limit must be at least 1, not " + limit);
    }
    if (revision < 0) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--rev must be a revision (1 or more), not " + revision);
    }
    PrintWriter out = spec.commandLine().getOut();
    ListQuery query = ListQuery.prefix(prefix).startAfter(startAfter).atRevision(revision);
    if (keysOnly) {
      query = query.withoutValues();
    }
    long left = limit == null ? Long.MAX_VALUE : limit;
    Page page;
    do {
      page = kv.store().blocking().list(query.limit((int) Math.min(left, ListQuery.DEFAULT_LIMIT)));
      for (KeyValue entry : page.entries()) {
        if (kv.output == Output.json) {
          Output.print(out, Output.entry(entry, !keysOnly));
        } else {
          out.println(keysOnly ? entry.key() : entry.key() + "\t" + values.of(entry));
        }
      }
      left -= page.entries().size();
      if (!page.entries().isEmpty()) {
        // Every page at the first one's revision: the listing is the store as of one moment.
        query = query.startAfter(lastKey(page)).atRevision(page.revision());
      }
    } while (left > 0 && page.more() && !page.entries().isEmpty());
    if (page.more() && !page.entries().isEmpty()) {
      sayMoreFollow(out, lastKey(page));
    }
    return ExitCodes.OK;
  }

  /** After --limit keys, where the next page starts: for scripts a last line, for people a note. */
  private void sayMoreFollow(PrintWriter out, String lastKey) {
    if (kv.output == Output.json) {
      JsonObject more = new JsonObject();
      more.addProperty("more", true);
      more.addProperty("startAfter", lastKey);
      Output.print(out, more);
    } else {
      // Standard error keeps the listing itself clean for a pipe.
      spec.commandLine().getErr().println("kv: more keys follow; next: --start-after " + lastKey);
    }
  }

  private static String lastKey(Page page) {
    return page.entries().get(page.entries().size() - 1).key();
  }
}
