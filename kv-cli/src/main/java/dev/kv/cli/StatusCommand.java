package dev.kv.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.kv.core.StoreStatus;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    description = {
      "Prints what an operator checks first: kv-server's version, health and uptime, its store "
          + "and current revision, its read cache, and on etcd each member with its version, "
          + "leader, database size and raft index (as etcdctl endpoint status shows them). With "
          + "--etcd-endpoints, etcd's members as they answer kv directly."
    },
    footer = {
      "",
      "Exits 0 once kv-server (or etcd) answered, even when it is not serving or a member did"
          + " not answer: the output says so."
    })
final class StatusCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    StoreStatus status = kv.store().blocking().status();
    PrintWriter out = spec.commandLine().getOut();
    if (kv.output == Output.json) {
      Output.print(out, json(status));
    } else {
      text(status, out);
    }
    return ExitCodes.OK;
  }

  private void text(StoreStatus status, PrintWriter out) {
    status
        .server()
        .ifPresent(
            server -> {
              line(out, "server", "kv-server " + server.version() + " at " + kv.server);
              line(out, "health", server.serving() ? "serving" : "NOT serving");
              line(out, "uptime", uptime(server.uptime()));
            });
    line(out, "store", status.kind());
    line(out, "revision", status.revision() == 0 ? "unknown" : String.valueOf(status.revision()));
    status
        .cache()
        .ifPresent(
            cache ->
                line(
                    out,
                    "read cache",
                    cache.size()
                        + " of "
                        + cache.capacity()
                        + " keys, hit ratio "
                        + cache
                            .hitRatio()
                            .map(ratio -> String.format(Locale.ROOT, "%.1f%%", 100 * ratio))
                            .orElse("-")
                        + " ("
                        + cache.hits()
                        + " hits, "
                        + cache.misses()
                        + " misses)"
                        + (cache.live() ? "" : ", NOT live: reads go to the store")));
    if (!status.members().isEmpty()) {
      out.println("etcd members:");
      members(status.members(), out);
    }
  }

  private static void line(PrintWriter out, String name, String value) {
    out.printf("%-12s%s%n", name + ":", value);
  }

  /** A table, as etcdctl endpoint status -w table has it. */
  private static void members(List<StoreStatus.Member> members, PrintWriter out) {
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {"ENDPOINT", "ID", "VERSION", "LEADER", "DB SIZE", "RAFT TERM", "RAFT INDEX"});
    for (StoreStatus.Member member : members) {
      rows.add(
          member.error().isPresent()
              ? new String[] {member.endpoint(), "error: " + member.error().get()}
              : new String[] {
                member.endpoint(),
                Long.toHexString(member.id()),
                member.version(),
                member.leader() ? "true" : "false",
                bytes(member.dbSizeBytes()),
                Long.toUnsignedString(member.raftTerm()),
                Long.toUnsignedString(member.raftIndex())
              });
    }
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      // An error spans the columns after the endpoint: it widens none of them.
      for (int i = 0; i < (row.length == widths.length ? row.length : 1); i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(
            i == row.length - 1 ? row[i] : String.format("%-" + (widths[i] + 2) + "s", row[i]));
      }
      out.println(line.toString().stripTrailing());
    }
  }

  /** Bytes as etcdctl prints them: 20 kB, 1.2 MB. */
  static String bytes(long bytes) {
    if (bytes < 1000) {
      return bytes + " B";
    }
    String[] units = {"kB", "MB", "GB", "TB"};
    double amount = bytes;
    int unit = -1;
    while (amount >= 1000 && unit < units.length - 1) {
      amount /= 1000;
      unit++;
    }
    String digits = amount < 10 ? "%.1f" : "%.0f";
    return String.format(Locale.ROOT, digits + " %s", amount, units[unit]);
  }

  /** An uptime such as 3d4h5m, 12m30s or 8s. */
  static String uptime(Duration uptime) {
    long days = uptime.toDays();
    String text =
        (days > 0 ? days + "d" : "")
            + (uptime.toHoursPart() > 0 || days > 0 ? uptime.toHoursPart() + "h" : "")
            + (uptime.toMinutesPart() > 0 || uptime.toHours() > 0
                ? uptime.toMinutesPart() + "m"
                : "");
    return days > 0 ? text : text + uptime.toSecondsPart() + "s";
  }

  private JsonObject json(StoreStatus status) {
    JsonObject object = new JsonObject();
    status
        .server()
        .ifPresent(
            server -> {
              JsonObject json = new JsonObject();
              json.addProperty("address", kv.server.toString());
              json.addProperty("version", server.version());
              json.addProperty("serving", server.serving());
              json.addProperty("uptimeSeconds", server.uptime().toSeconds());
              object.add("server", json);
            });
    object.addProperty("store", status.kind());
    object.addProperty("revision", status.revision());
    status
        .cache()
        .ifPresent(
            cache -> {
              JsonObject json = new JsonObject();
              json.addProperty("size", cache.size());
              json.addProperty("capacity", cache.capacity());
              json.addProperty("hits", cache.hits());
              json.addProperty("misses", cache.misses());
              cache.hitRatio().ifPresent(ratio -> json.addProperty("hitRatio", ratio));
              json.addProperty("live", cache.live());
              object.add("readCache", json);
            });
    if (!status.members().isEmpty()) {
      JsonArray members = new JsonArray();
      for (StoreStatus.Member member : status.members()) {
        JsonObject json = new JsonObject();
        json.addProperty("endpoint", member.endpoint());
        if (member.error().isPresent()) {
          json.addProperty("error", member.error().get());
        } else {
          json.addProperty("id", Long.toHexString(member.id()));
          json.addProperty("version", member.version());
          json.addProperty("leader", member.leader());
          json.addProperty("learner", member.learner());
          json.addProperty("dbSizeBytes", member.dbSizeBytes());
          json.addProperty("raftTerm", member.raftTerm());
          json.addProperty("raftIndex", member.raftIndex());
        }
        members.add(json);
      }
      object.add("members", members);
    }
    return object;
  }
}
