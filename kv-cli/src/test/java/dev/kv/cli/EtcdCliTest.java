package dev.kv.cli;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.kv.core.config.HostPort;
import dev.kv.core.etcd.EtcdCluster;
import dev.kv.core.etcd.EtcdStore;
import dev.kv.core.etcd.RecordingEtcd;
import dev.kv.server.CommandRun;
import dev.kv.server.KvServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code kv} on etcd: through kv-server, and directly with --etcd; alongside etcd's own client. */
@Timeout(60)
class EtcdCliTest {

  @RegisterExtension static final EtcdCluster etcd = EtcdCluster.ofMembers(1);

  private static EtcdStore store;
  private static KvServer server;

  @BeforeAll
  static void startServer() throws Exception {
    store = EtcdStore.builder().endpoints(etcd.endpoints()).build();
    server = KvServer.listeningOn(new HostPort("127.0.0.1", 0), store).start();
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.stop(Duration.ZERO);
    store.close();
  }

  @BeforeEach
  void emptyStore() {
    etcd.deleteAllKeys();
  }

  @Test
  void directStatus_reportsEachMemberAsEtcdctlEndpointStatusDoes() throws Exception {
    CommandRun text = kv("--etcd-endpoints", etcd.endpoints().toString(), "status");
    CommandRun json = kv("--etcd-endpoints", etcd.endpoints().toString(), "-o", "json", "status");

    assertThat(text.exitCode()).isZero();
    assertThat(text.out())
        .startsWith("store:      etcd\nrevision:   ")
        .contains("etcd members:\nENDPOINT ", etcd.endpoints().toString());
    assertMembersAsEtcdctlSays(etcd, JsonParser.parseString(json.out()).getAsJsonObject());
  }

  @Test
  void statusThroughTheServer_reportsTheMembersOfItsEtcd() throws Exception {
    CommandRun json = kv("--server", server.address().toString(), "-o", "json", "status");

    JsonObject status = JsonParser.parseString(json.out()).getAsJsonObject();
    assertThat(status.get("store").getAsString()).isEqualTo("etcd");
    assertThat(status.getAsJsonObject("server").get("address").getAsString())
        .isEqualTo(server.address().toString());
    assertMembersAsEtcdctlSays(etcd, status);
  }

  @Test
  void directStatus_ofThreeMembers_namesOneLeader_andAMemberDown() throws Exception {
    try (EtcdCluster three = EtcdCluster.ofMembers(3).start()) {
      String endpoints = three.endpoints().toString();
      JsonObject status =
          JsonParser.parseString(kv("--etcd-endpoints", endpoints, "-o", "json", "status").out())
              .getAsJsonObject();

      assertMembersAsEtcdctlSays(three, status);
      assertThat(status.getAsJsonArray("members").asList())
          .filteredOn(member -> member.getAsJsonObject().get("leader").getAsBoolean())
          .hasSize(1);

      int down = (three.leader() + 1) % 3;
      three.stop(down);
      CommandRun text = kv("--etcd-endpoints", endpoints, "status");

      assertThat(text.exitCode()).isZero();
      assertThat(text.out().lines())
          .filteredOn(line -> line.startsWith(three.endpoint(down).toString()))
          .singleElement(as(InstanceOfAssertFactories.STRING))
          .contains("error: cannot reach etcd member at " + three.endpoint(down));
    }
  }

  /** Each member in {@code status} as {@code etcdctl endpoint status} reports it, just after. */
  private static void assertMembersAsEtcdctlSays(EtcdCluster cluster, JsonObject status)
      throws Exception {
    JsonArray reported =
        JsonParser.parseString(
                new String(
                    cluster.etcdctl("endpoint", "status", "-w", "json"), StandardCharsets.UTF_8))
            .getAsJsonArray();
    JsonArray members = status.getAsJsonArray("members");
    assertThat(members).hasSize(reported.size());
    for (int i = 0; i < members.size(); i++) {
      JsonObject member = members.get(i).getAsJsonObject();
      JsonObject etcdctl = reported.get(i).getAsJsonObject();
      JsonObject memberStatus = etcdctl.getAsJsonObject("Status");
      long id = memberStatus.getAsJsonObject("header").get("member_id").getAsLong();
      assertThat(member.get("endpoint").getAsString())
          .isEqualTo(etcdctl.get("Endpoint").getAsString());
      assertThat(member.get("id").getAsString()).isEqualTo(Long.toHexString(id));
      assertThat(member.get("version").getAsString())
          .isEqualTo(memberStatus.get("version").getAsString());
      assertThat(member.get("leader").getAsBoolean())
          .isEqualTo(memberStatus.get("leader").getAsLong() == id);
      assertThat(member.get("raftTerm").getAsLong())
          .isEqualTo(memberStatus.get("raftTerm").getAsLong());
      // Read just before etcdctl's: no larger, and no smaller than a few entries apart.
      assertThat(member.get("raftIndex").getAsLong())
          .isBetween(
              memberStatus.get("raftIndex").getAsLong() - 10,
              memberStatus.get("raftIndex").getAsLong());
      assertThat(member.get("dbSizeBytes").getAsLong())
          .isPositive()
          .isLessThanOrEqualTo(memberStatus.get("dbSize").getAsLong());
    }
  }

  @Test
  void valuePutWithEtcdctl_readsBackThroughKvGet_viaServerAndDirectly() throws Exception {
    etcd.etcdctl("put", "from-etcdctl", "hello from etcdctl ✓");

    assertThat(kv("--server", server.address().toString(), "get", "from-etcdctl"))
        .isEqualTo(new CommandRun(0, "hello from etcdctl ✓\n", ""));
    assertThat(kv("--etcd-endpoints", etcd.endpoints().toString(), "get", "from-etcdctl"))
        .isEqualTo(new CommandRun(0, "hello from etcdctl ✓\n", ""));
  }

  @Test
  void directSet_isWhatEtcdctlReads() throws Exception {
    CommandRun set =
        kv("--etcd-endpoints", etcd.endpoints().toString(), "set", "direct", "straight in");

    assertThat(set).isEqualTo(new CommandRun(0, "", ""));
    assertThat(
            new String(etcd.etcdctl("get", "direct", "--print-value-only"), StandardCharsets.UTF_8))
        .isEqualTo("straight in\n");
  }

  @Test
  void direct_delAndList_workAsWithTheServer() throws Exception {
    String endpoints = etcd.endpoints().toString();
    etcd.etcdctl("put", "d/1", "one");
    etcd.etcdctl("put", "d/2", "two");

    assertThat(kv("--etcd-endpoints", endpoints, "list", "d/"))
        .isEqualTo(new CommandRun(0, "d/1\tone\nd/2\ttwo\n", ""));
    assertThat(kv("--etcd-endpoints", endpoints, "del", "--prefix", "d/"))
        .isEqualTo(new CommandRun(0, "2\n", ""));
    assertThat(new String(etcd.etcdctl("get", "d/", "--prefix"), StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void direct_conditionalWriteAndWatch_workAsWithTheServer() throws Exception {
    String endpoints = etcd.endpoints().toString();

    assertThat(kv("--etcd-endpoints", endpoints, "set", "lock", "me", "--if-absent").exitCode())
        .isZero();
    assertThat(kv("--etcd-endpoints", endpoints, "set", "lock", "you", "--if-absent").exitCode())
        .isEqualTo(1);
    String revision =
        kv("--etcd-endpoints", endpoints, "-o", "json", "get", "lock")
            .out()
            .replaceAll(".*\"modRevision\":(\\d+).*\\s*", "$1");
    assertThat(
            kv("--etcd-endpoints", endpoints, "watch", "lock", "--rev", revision, "--count", "1"))
        .isEqualTo(new CommandRun(0, "PUT lock me\n", ""));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"--server", "--etcd-endpoints"})
  void valueThatIsNotText_isListedAndWatched_getExitsFive_hexAndJsonShowIt(String via)
      throws Exception {
    String at = via.equals("--server") ? server.address().toString() : etcd.endpoints().toString();
    etcd.etcdctl("put", "mixed/a", "text");
    etcd.etcdctlPut("mixed/b".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xff, -2, 'k'});

    assertThat(kv(via, at, "list", "mixed/"))
        .isEqualTo(
            new CommandRun(0, "mixed/a\ttext\nmixed/b\t<not text: 3 bytes; --hex shows it>\n", ""));
    assertThat(kv(via, at, "list", "mixed/", "--hex"))
        .isEqualTo(new CommandRun(0, "mixed/a\t74657874\nmixed/b\tfffe6b\n", ""));
    assertThat(kv(via, at, "-o", "json", "list", "mixed/").out())
        .contains("{\"key\":\"mixed/a\",\"value\":\"text\",")
        .contains("{\"key\":\"mixed/b\",\"valueBase64\":\"//5r\",");
    assertThat(kv(via, at, "get", "mixed/b"))
        .isEqualTo(
            new CommandRun(
                5,
                "",
                "kv: the value of key 'mixed/b' is not UTF-8 text (3 bytes, written by another etcd"
                    + " client); kv reads and writes text only; 'kv get --hex mixed/b' (or -o json)"
                    + " shows it\n"));
    assertThat(kv(via, at, "get", "--hex", "mixed/b")).isEqualTo(new CommandRun(0, "fffe6b\n", ""));
    assertThat(kv(via, at, "get", "--hex", "mixed/a"))
        .isEqualTo(new CommandRun(0, "74657874\n", ""));
    assertThat(kv(via, at, "-o", "json", "get", "mixed/b").out())
        .contains("\"valueBase64\":\"//5r\"");
    assertThat(kv(via, at, "get", "--hex", "mixed/").exitCode()).as("not a key").isEqualTo(1);
    String revision =
        kv(via, at, "-o", "json", "get", "mixed/a")
            .out()
            .replaceAll(".*\"modRevision\":(\\d+).*\\s*", "$1");
    assertThat(kv(via, at, "watch", "--prefix", "mixed/", "--rev", revision, "--count", "2"))
        .isEqualTo(
            new CommandRun(
                0, "PUT mixed/a text\nPUT mixed/b <not text: 3 bytes; --hex shows it>\n", ""));
    assertThat(kv(via, at, "watch", "mixed/b", "--rev", revision, "--count", "1", "--hex"))
        .isEqualTo(new CommandRun(0, "PUT mixed/b fffe6b\n", ""));
  }

  @Test
  void watchFromACompactedRevision_exitsFour_directlyAndThroughTheServer() throws Exception {
    String endpoints = etcd.endpoints().toString();
    long first = store.blocking().set("compacted", "1");
    long last = store.blocking().set("compacted", "2");
    etcd.etcdctl("compact", String.valueOf(last));

    for (String[] target :
        new String[][] {
          {"--etcd-endpoints", endpoints}, {"--server", server.address().toString()}
        }) {
      CommandRun run =
          kv(target[0], target[1], "watch", "compacted", "--rev", String.valueOf(first));

      assertThat(run.exitCode()).as(run.err()).isEqualTo(4);
      assertThat(run.err()).startsWith("kv: ").hasLineCount(1);
    }
  }

  @Test
  void direct_missingKey_exitsOneAsWithTheServer() {
    assertThat(kv("--etcd-endpoints", etcd.endpoints().toString(), "get", "nosuchkey"))
        .isEqualTo(new CommandRun(1, "", "kv: key not found: nosuchkey\n"))
        .isEqualTo(kv("--server", server.address().toString(), "get", "nosuchkey"));
  }

  @Test
  void direct_withAnAuthority_sendsItToEtcd() throws Exception {
    try (RecordingEtcd proxy = new RecordingEtcd()) {
      CommandRun run =
          kv(
              "--etcd-endpoints",
              proxy.endpoints().toString(),
              "--etcd-authority",
              "etcd",
              "get",
              "k");

      assertThat(run.exitCode()).isEqualTo(1);
      assertThat(proxy.authorities()).containsExactly("etcd");
    }
  }

  @Test
  void direct_etcdUnreachable_exitsThreeNamingTheEndpoints() {
    CommandRun run =
        kv("--etcd-endpoints", "http://127.0.0.1:1", "--etcd-timeout", "2s", "get", "foo");

    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.err()).startsWith("kv: ").contains("etcd at http://127.0.0.1:1").endsWith("\n");
    assertThat(run.err().lines()).hasSize(1);
  }

  @Test
  void oldEtcdOption_stillWorksForOneRelease_andOneLineNamesTheNewOne() throws Exception {
    etcd.etcdctl("put", "renamed", "still here");

    assertThat(kv("--etcd", etcd.endpoints().toString(), "get", "renamed"))
        .isEqualTo(
            new CommandRun(
                0,
                "still here\n",
                "kv: warning: for etcd, give --etcd-endpoints rather than --etcd; the old names"
                    + " stop applying to etcd in the next release\n"));
    assertThat(
            kv(
                "--etcd-endpoints",
                etcd.endpoints().toString(),
                "--timeout",
                "9s",
                "get",
                "renamed"))
        .isEqualTo(
            new CommandRun(
                0,
                "still here\n",
                "kv: warning: for etcd, give --etcd-timeout rather than --timeout; the old names"
                    + " stop applying to etcd in the next release\n"));
    assertThat(
            kv(
                "--etcd-endpoints",
                etcd.endpoints().toString(),
                "--etcd-timeout",
                "9s",
                "get",
                "renamed",
                "--timeout",
                "1s"))
        .as("the new name given, the old one is kv-server's alone")
        .isEqualTo(new CommandRun(0, "still here\n", ""));
    assertThat(kv("--help").out()).doesNotContain("--etcd ", "KV_ETCD ", "KV_ETCD.");
  }

  @Test
  void serverAndOldEtcdOptionTogether_exitsTwo() {
    CommandRun run =
        kv(
            "--server",
            server.address().toString(),
            "--etcd",
            etcd.endpoints().toString(),
            "get",
            "k");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).startsWith("kv: --server and --etcd exclude each other");
  }

  @Test
  void serverAndEtcdTogether_exitsTwo() {
    CommandRun run =
        kv(
            "--server",
            server.address().toString(),
            "--etcd-endpoints",
            etcd.endpoints().toString(),
            "get",
            "k");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).startsWith("kv: --server and --etcd-endpoints exclude each other");
  }

  @Test
  void invalidEtcdEndpoints_exitsTwoSayingWhatIsExpected() {
    CommandRun run = kv("--etcd-endpoints", "etcd", "get", "k");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("expected etcd endpoints such as http://127.0.0.1:2379");
  }

  private static CommandRun kv(String... args) {
    return CommandRun.execute(Cli.commandLine(args), args);
  }
}
