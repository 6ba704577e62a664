package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.kv.core.KvStore;
import dev.kv.core.KvVersion;
import dev.kv.core.ListQuery;
import dev.kv.core.config.HostPort;
import dev.kv.core.memory.MemoryStore;
import dev.kv.server.CommandRun;
import dev.kv.server.KvServer;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import java.lang.reflect.Proxy;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code kv} against a real kv-server on a loopback port. */
@Timeout(60)
class CliTest {

  /** A bound on waits that take a second or so when the machine is not busy. */
  private static final Duration WAIT = Duration.ofSeconds(45);

  private MemoryStore store;
  private KvServer server;

  @BeforeEach
  void startServer() throws Exception {
    store = new MemoryStore();
    server = KvServer.listeningOn(new HostPort("127.0.0.1", 0), store).start();
  }

  @AfterEach
  void stopServer() throws Exception {
    server.stop(Duration.ZERO);
    store.close();
  }

  @Test
  void set_thenGet_printsTheValueAndANewline() {
    CommandRun set = kv("set", "foo", "bar");
    CommandRun get = kv("get", "foo");

    assertThat(set).isEqualTo(new CommandRun(0, "", ""));
    assertThat(get).isEqualTo(new CommandRun(0, "bar\n", ""));
  }

  @Test
  void set_reachesTheServersStore() {
    kv("set", "greeting", "hello world");

    assertThat(store.blocking().get("greeting")).contains("hello world");
  }

  @Test
  void get_missingKey_exitsOneWithOneLine() {
    assertThat(kv("get", "nosuchkey"))
        .isEqualTo(new CommandRun(1, "", "kv: key not found: nosuchkey\n"));
  }

  @Test
  void set_emptyKey_exitsTwoWithOneLine() {
    assertThat(kv("set", "", "bar"))
        .isEqualTo(new CommandRun(2, "", "kv: key must not be empty\n"));
  }

  @Test
  void set_valueStartingWithADash_afterDoubleDash() {
    assertThat(kv("set", "temperature", "--", "-5").exitCode()).isZero();

    assertThat(kv("get", "temperature").out()).isEqualTo("-5\n");
  }

  @Test
  void set_emptyValue_isStored() {
    kv("set", "empty", "");

    assertThat(kv("get", "empty")).isEqualTo(new CommandRun(0, "\n", ""));
  }

  @Test
  void options_mayFollowTheCommand() {
    store.blocking().set("only-here", "yes");

    CommandRun run = kvWithoutServer("get", "only-here", "--server", server.address().toString());

    assertThat(run).isEqualTo(new CommandRun(0, "yes\n", ""));
  }

  @Test
  void commandHelp_alsoListsTheExitCodes() {
    assertThat(kv("get", "--help").out()).contains("Exit codes:", "1   the key was not found");
  }

  @Test
  void timeoutBeyondADay_exitsTwo() {
    CommandRun run = kv("--timeout", "3000000h", "get", "foo");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).startsWith("kv: a timeout must be longer than 0 and at most 24h");
  }

  @Test
  void serverUnreachable_exitsThreeNamingTheServer() throws Exception {
    String closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = "127.0.0.1:" + socket.getLocalPort();
    }

    CommandRun run = kvWithoutServer("--server", closed, "get", "foo");

    assertThat(run)
        .isEqualTo(new CommandRun(3, "", "kv: cannot reach kv-server at " + closed + "\n"));
  }

  @Test
  void serverThatSpeaksHttp1_exitsThreeWithOneLine() throws Exception {
    try (ServerSocket http1 = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread answering =
          new Thread(
              () -> {
                while (!http1.isClosed()) {
                  try (java.net.Socket client = http1.accept()) {
                    client
                        .getOutputStream()
                        .write(
                            "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                  } catch (java.io.IOException e) {
                    return;
                  }
                }
              });
      answering.setDaemon(true);
      answering.start();

      CommandRun run =
          kvWithoutServer("--server", "127.0.0.1:" + http1.getLocalPort(), "get", "foo");

      assertThat(run.exitCode()).isEqualTo(3);
      assertThat(run.err()).startsWith("kv: ").hasLineCount(1);
    }
  }

  @Test
  void tlsFilesThatCannotBeUsed_exitTwoWithOneLine(@TempDir Path dir) throws Exception {
    Path notPem = Files.writeString(dir.resolve("ca.pem"), "not a certificate\n");

    assertThat(kvWithoutServer("--cacert", dir.resolve("missing.pem").toString(), "get", "k"))
        .isEqualTo(
            new CommandRun(
                2,
                "",
                "kv: cannot read the CA certificate "
                    + dir.resolve("missing.pem")
                    + ": no such file (see 'kv --help')\n"));
    assertThat(kvWithoutServer("--cacert", notPem.toString(), "get", "k").err())
        .startsWith("kv: the CA certificate " + notPem + " ")
        .hasLineCount(1);
    assertThat(kvWithoutServer("--cert", notPem.toString(), "get", "k"))
        .isEqualTo(
            new CommandRun(
                2,
                "",
                "kv: a client certificate goes with its private key: give both, or neither"
                    + " (see 'kv --help')\n"));
    assertThat(kvWithoutServer("--auth-token-file", dir.resolve("no-token").toString(), "get", "k"))
        .isEqualTo(
            new CommandRun(
                2,
                "",
                "kv: cannot read --auth-token-file "
                    + dir.resolve("no-token")
                    + ": no such file (see 'kv --help')\n"));
  }

  @Test
  void tlsOptionsThatCannotApply_exitTwo() {
    assertThat(kvWithoutServer("--etcd-endpoints", "http://127.0.0.1:2379", "--tls", "get", "k"))
        .isEqualTo(
            new CommandRun(
                2,
                "",
                "kv: --tls with etcd endpoints that are http:// (http://127.0.0.1:2379): give"
                    + " https:// endpoints for members that serve TLS (see 'kv --help')\n"));
    assertThat(kvWithoutServer("--key", "client.key", "get", "k").err())
        .startsWith("kv: a client certificate goes with its private key");
  }

  @Test
  void mistypedSecretOption_isNamed_butWhatFollowsItIsNot() {
    assertThat(kvWithoutServer("--etcd-password", "hunter2", "get", "k"))
        .isEqualTo(
            new CommandRun(2, "", "kv: unknown option '--etcd-password' (see 'kv --help')\n"));
  }

  @Test
  void etcdUserWithoutAPassword_exitsTwo() {
    assertThat(
            kvWithoutServer(
                "--etcd-endpoints", "http://127.0.0.1:2379", "--etcd-user", "root", "get", "k"))
        .isEqualTo(
            new CommandRun(
                2,
                "",
                "kv: --etcd-user needs a password: give --etcd-password-file FILE, or set"
                    + " KV_ETCD_PASSWORD (see 'kv --help')\n"));
  }

  @Test
  void serverTooSlow_exitsThreeWithinTheTimeout() throws Exception {
    KvServer silent = KvServer.listeningOn(new HostPort("127.0.0.1", 0), silentStore()).start();
    try {
      CommandRun run =
          kvWithoutServer(
              "--server", silent.address().toString(), "--timeout", "300ms", "get", "a");

      assertThat(run)
          .isEqualTo(
              new CommandRun(
                  3,
                  "",
                  "kv: kv-server at " + silent.address() + " did not answer within 300ms\n"));
    } finally {
      silent.stop(Duration.ZERO);
    }
  }

  @Test
  void del_existingKey_printsOne_thenTheKeyIsGone() {
    kv("set", "doomed", "x");

    assertThat(kv("del", "doomed")).isEqualTo(new CommandRun(0, "1\n", ""));
    assertThat(kv("get", "doomed").exitCode()).isEqualTo(1);
  }

  @Test
  void del_missingKey_andPrefixMatchingNothing_bothPrintZeroAndExitOne() {
    assertThat(kv("del", "never"))
        .isEqualTo(new CommandRun(1, "0\n", "kv: key not found: never\n"));
    assertThat(kv("del", "--prefix", "never/"))
        .isEqualTo(new CommandRun(1, "0\n", "kv: no key starts with never/\n"));
    assertThat(kv("-o", "json", "del", "--prefix", "never/").out())
        .startsWith("{\"deleted\":0,\"revision\":");
  }

  @Test
  void del_prefix_printsHowManyWentAndKeepsTheRest() {
    kv("set", "tmp/a", "1");
    kv("set", "tmp/b", "2");
    kv("set", "tmpx", "3");

    assertThat(kv("del", "--prefix", "tmp/")).isEqualTo(new CommandRun(0, "2\n", ""));
    assertThat(kv("get", "tmpx").out()).isEqualTo("3\n");
  }

  @Test
  void list_printsKeysAndValuesInKeyOrder() {
    kv("set", "l/b", "two");
    kv("set", "l/a", "one");
    kv("set", "other", "x");

    assertThat(kv("list", "l/")).isEqualTo(new CommandRun(0, "l/a\tone\nl/b\ttwo\n", ""));
    assertThat(kv("list", "l/", "--keys-only").out()).isEqualTo("l/a\nl/b\n");
    assertThat(kv("list").out()).isEqualTo("l/a\tone\nl/b\ttwo\nother\tx\n");
  }

  @Test
  void list_limitAndStartAfter_page() {
    for (int i = 1; i <= 5; i++) {
      kv("set", "n/" + i, "v");
    }

    assertThat(kv("list", "n/", "--keys-only", "--limit", "2").out()).isEqualTo("n/1\nn/2\n");
    assertThat(kv("list", "n/", "--keys-only", "--start-after", "n/2").out())
        .isEqualTo("n/3\nn/4\nn/5\n");
    assertThat(kv("list", "--limit", "0").exitCode()).isEqualTo(2);
  }

  @Test
  void list_stoppedByItsLimit_saysWhereTheNextPageStarts() {
    for (int i = 1; i <= 3; i++) {
      kv("set", "p/" + i, "v");
    }

    assertThat(kv("-o", "json", "list", "p/", "--limit", "2").out().lines())
        .hasSize(3)
        .last()
        .isEqualTo("{\"more\":true,\"startAfter\":\"p/2\"}");
    assertThat(kv("list", "p/", "--keys-only", "--limit", "2"))
        .isEqualTo(
            new CommandRun(0, "p/1\np/2\n", "kv: more keys follow; next: --start-after p/2\n"));
    assertThat(kv("-o", "json", "list", "p/", "--limit", "3").out().lines()).hasSize(3);
    assertThat(kv("list", "p/", "--limit", "3").err()).isEmpty();
  }

  @Test
  void list_ofManyPages_isTheStoreAsItWasAtTheFirstPage() throws Exception {
    for (int i = 0; i < 1_050; i++) {
      store.blocking().set(String.format("view/%04d", i), "old");
    }
    KvStore writesAfterTheFirstPage =
        (KvStore)
            Proxy.newProxyInstance(
                KvStore.class.getClassLoader(),
                new Class<?>[] {KvStore.class},
                (proxy, method, args) -> {
                  Object answer = method.invoke(store, args);
                  if (method.getName().equals("list")
                      && ((ListQuery) args[0]).startAfter().isEmpty()) {
                    store.blocking().set("view/1049", "new");
                    store.blocking().delete("view/1048");
                    store.blocking().set("view/1050", "added");
                  }
                  return answer;
                });
    KvServer writing =
        KvServer.listeningOn(new HostPort("127.0.0.1", 0), writesAfterTheFirstPage).start();
    try {
      CommandRun run = kvWithoutServer("--server", writing.address().toString(), "list", "view/");

      assertThat(run.exitCode()).isZero();
      assertThat(run.out().lines()).hasSize(1_050).allMatch(line -> line.endsWith("\told"));
      assertThat(store.blocking().get("view/1049")).contains("new");
    } finally {
      writing.stop(Duration.ZERO);
    }
  }

  @Test
  void list_rev_listsTheKeysAsTheyWereAtIt() {
    kv("set", "at/1", "old");
    long first = store.blocking().list(ListQuery.prefix("at/")).revision();
    kv("set", "at/2", "old");
    long listed = store.blocking().list(ListQuery.prefix("at/").limit(1)).revision();
    kv("set", "at/2", "new");

    assertThat(kv("list", "at/", "--rev", String.valueOf(listed)).out())
        .isEqualTo("at/1\told\nat/2\told\n");
    assertThat(kv("list", "at/", "--rev", String.valueOf(first)).out()).isEqualTo("at/1\told\n");
    assertThat(kv("list", "--rev", "-1").exitCode()).isEqualTo(2);
  }

  @Test
  void list_rev_aRevisionNoLongerKept_exitsFour() throws Exception {
    MemoryStore forgetful = new MemoryStore(1); // its history: the last change alone
    KvServer small = KvServer.listeningOn(new HostPort("127.0.0.1", 0), forgetful).start();
    try {
      long first = forgetful.blocking().set("at/1", "old");
      forgetful.blocking().set("at/1", "new");
      forgetful.blocking().set("at/2", "new");

      CommandRun gone =
          kvWithoutServer(
              "--server",
              small.address().toString(),
              "list",
              "at/",
              "--rev",
              String.valueOf(first));

      assertThat(gone.exitCode()).isEqualTo(4);
      assertThat(gone.out()).isEmpty();
      assertThat(gone.err()).contains("list again from the start").hasLineCount(1);
    } finally {
      small.stop(Duration.ZERO);
      forgetful.close();
    }
  }

  @Test
  void list_moreKeysThanAPage_printsThemAll() {
    for (int i = 0; i < 1_050; i++) {
      store.blocking().set(String.format("big/%04d", i), "v");
    }

    assertThat(kv("list", "big/", "--keys-only").out().lines()).hasSize(1_050);
  }

  @Test
  void get_serializable_readsTheValue() {
    kv("set", "loose", "ok");

    assertThat(kv("get", "loose", "--consistency", "serializable").out()).isEqualTo("ok\n");
    assertThat(kv("get", "loose", "--consistency", "sometimes").exitCode()).isEqualTo(2);
  }

  @Test
  void getJson_givesTheEntryWithItsRevisions() {
    long revision = store.blocking().set("j", "value \"quoted\"\n");

    assertThat(kv("-o", "json", "get", "j").out())
        .isEqualTo(
            "{\"key\":\"j\",\"value\":\"value \\\"quoted\\\"\\n\",\"createRevision\":"
                + revision
                + ",\"modRevision\":"
                + revision
                + ",\"version\":1}\n");
  }

  @Test
  void setIfAbsent_secondTime_exitsOneSayingTheKeyExists() {
    CommandRun first = kv("-o", "json", "set", "lock", "me", "--if-absent");
    long revision = store.blocking().entry("lock").orElseThrow().modRevision();
    CommandRun second = kv("set", "lock", "you", "--if-absent");

    assertThat(first)
        .isEqualTo(new CommandRun(0, "{\"key\":\"lock\",\"revision\":" + revision + "}\n", ""));
    assertThat(second)
        .isEqualTo(
            new CommandRun(
                1, "", "kv: not set: lock already exists (modRevision " + revision + ")\n"));
    assertThat(kv("get", "lock").out()).isEqualTo("me\n");
  }

  @Test
  void setIfRevision_currentOne_writes_staleOne_exitsOne() {
    long revision = store.blocking().set("cas", "1");

    CommandRun stale = kv("set", "cas", "x", "--if-revision", String.valueOf(revision - 1));
    CommandRun fresh = kv("set", "cas", "2", "--if-revision", String.valueOf(revision));

    assertThat(stale.exitCode()).isEqualTo(1);
    assertThat(stale.err())
        .isEqualTo(
            "kv: not set: cas has modRevision " + revision + ", not " + (revision - 1) + "\n");
    assertThat(fresh.exitCode()).isZero();
    assertThat(kv("get", "cas").out()).isEqualTo("2\n");
    assertThat(kv("set", "cas", "3", "--if-absent", "--if-revision", "1").exitCode()).isEqualTo(2);
    assertThat(kv("set", "cas", "3", "--if-revision", "0").exitCode()).isEqualTo(2);
    assertThat(kv("del", "cas", "--if-revision", "0").exitCode()).isEqualTo(2);
  }

  @Test
  void delIfRevision_staleOne_keepsTheKey() {
    long revision = store.blocking().set("kept", "x");

    assertThat(kv("del", "kept", "--if-revision", String.valueOf(revision + 5)).exitCode())
        .isEqualTo(1);
    assertThat(kv("del", "kept", "--if-revision", String.valueOf(revision)))
        .isEqualTo(new CommandRun(0, "1\n", ""));
  }

  @Test
  void list_valuesLargerInAllThanOneMessage_printsThemAll() {
    // 12 MB in all: more than one page, and more than a client takes in one message.
    String large = "v".repeat(1_500_000);
    for (int i = 1; i <= 8; i++) {
      store.blocking().set("huge/" + i, large);
    }

    CommandRun run = kv("list", "huge/");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out().lines().map(line -> line.substring(0, line.indexOf('\t'))))
        .containsExactly(
            "huge/1", "huge/2", "huge/3", "huge/4", "huge/5", "huge/6", "huge/7", "huge/8");
    assertThat(run.out().lines().map(line -> line.equals(line.substring(0, 7) + large)))
        .containsOnly(true);
  }

  @Test
  void listJson_givesOneEntryPerLine() {
    kv("set", "lj/a", "1");
    kv("set", "lj/b", "2");

    assertThat(kv("-o", "json", "list", "lj/").out().lines())
        .hasSize(2)
        .allSatisfy(
            line -> assertThat(line).startsWith("{\"key\":\"lj/").contains("\"modRevision\":"));
  }

  @Test
  void setWithTtl_keyGoesAwayOnItsOwn() {
    assertThat(kv("set", "blink", "soon gone", "--ttl", "1s").exitCode()).isZero();
    assertThat(kv("get", "blink").out()).isEqualTo("soon gone\n");

    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> kv("get", "blink").exitCode() == 1);
  }

  @Test
  void setWithTtl_inBareSeconds_isAccepted_butATimeoutNeedsItsUnit() {
    assertThat(kv("set", "lease", "x", "--ttl", "30").exitCode()).isZero();
    assertThat(kv("set", "lease", "x", "--ttl", "1m").exitCode()).isZero();
    assertThat(kv("set", "lease", "x", "--ttl", "soon").err())
        .startsWith("kv: Invalid value for option '--ttl': expected a time to live such as 30");
    assertThat(kv("--timeout", "5", "get", "lease").exitCode()).isEqualTo(2);
  }

  @Test
  void setFromFile_storesItsTextExactly(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("config.txt");
    Files.writeString(file, "line one\nligne deux é\n", StandardCharsets.UTF_8);

    assertThat(kv("set", "config", "--file", file.toString()).exitCode()).isZero();

    assertThat(store.blocking().get("config")).contains("line one\nligne deux é\n");
  }

  @Test
  void setFromFile_thatIsNotText_exitsTwo(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("image.bin");
    Files.write(file, new byte[] {(byte) 0xff, (byte) 0xd8, 0});

    CommandRun run = kv("set", "image", "--file", file.toString());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).startsWith("kv: " + file + " is not UTF-8 text");
  }

  @Test
  void setFromFile_aDirectory_exitsTwoWithOneLine(@TempDir Path dir) {
    assertThat(kv("set", "k", "--file", dir.toString()))
        .isEqualTo(
            new CommandRun(
                2, "", "kv: " + dir + " is a directory, not a file (see 'kv set --help')\n"));
  }

  @Test
  void setFromFile_thatIsNotReadable_exitsTwoWithOneLine(@TempDir Path dir) throws Exception {
    Path locked = Files.writeString(dir.resolve("locked"), "secret");
    Files.setPosixFilePermissions(locked, java.util.Set.of());
    org.junit.jupiter.api.Assumptions.assumeFalse(
        Files.isReadable(locked), "the file is readable anyway (running as root)");
    assertThat(kv("set", "k", "--file", locked.toString()))
        .isEqualTo(
            new CommandRun(
                2,
                "",
                "kv: cannot read " + locked + ": permission denied (see 'kv set --help')\n"));
  }

  @Test
  void set_valueAndFileTogether_orNeither_exitsTwo() {
    assertThat(kv("set", "k", "v", "--file", "x").err())
        .startsWith("kv: give either VALUE or --file");
    assertThat(kv("set", "k").exitCode()).isEqualTo(2);
    assertThat(kv("set", "k", "--file", "/no/such/file").err())
        .startsWith("kv: no such file: /no/such/file");
  }

  @Test
  void watchFromARevision_printsWhatHappenedSince() {
    long first = store.blocking().set("watched", "one");
    store.blocking().set("watched", "two");
    store.blocking().delete("watched");

    CommandRun run = kv("watch", "watched", "--rev", String.valueOf(first), "--count", "3");

    assertThat(run)
        .isEqualTo(new CommandRun(0, "PUT watched one\nPUT watched two\nDELETE watched\n", ""));
  }

  @Test
  void watch_fromARevisionNoLongerKept_exitsFour() throws Exception {
    MemoryStore forgetful = new MemoryStore(1);
    KvServer server = KvServer.listeningOn(new HostPort("127.0.0.1", 0), forgetful).start();
    try {
      for (int i = 0; i < 3; i++) {
        forgetful.blocking().set("k", "v" + i);
      }

      CommandRun run =
          kvWithoutServer("--server", server.address().toString(), "watch", "k", "--rev", "1");

      assertThat(run.exitCode()).isEqualTo(4);
      assertThat(run.out()).isEmpty();
      assertThat(run.err()).startsWith("kv: ").hasLineCount(1);
    } finally {
      server.stop(Duration.ZERO);
      forgetful.close();
    }
  }

  @Test
  void watch_waitsForTheNextChange_andPrintsItAsJson() throws Exception {
    CompletableFuture<CommandRun> watching =
        CompletableFuture.supplyAsync(
            () -> kv("-o", "json", "watch", "jobs/", "--prefix", "--count", "1"));
    // The watch starts in its own time: write until it has seen a change.
    org.awaitility.Awaitility.await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              store.blocking().set("jobs/7", "queued");
              return watching.isDone();
            });

    CommandRun run = watching.join();

    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .startsWith("{\"key\":\"jobs/7\",\"value\":\"queued\",\"createRevision\":")
        .endsWith(",\"type\":\"PUT\"}\n");
    assertThat(run.out().lines()).hasSize(1);
  }

  @Test
  void noCommand_exitsTwoWithAHint() {
    CommandRun run = kv();

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .isEqualTo(
            "kv: missing command: get, set, del, list, watch, status, export, import, snapshot or bench (see 'kv --help')\n");
  }

  @Test
  void missingArgument_exitsTwoPointingAtTheCommandsHelp() {
    CommandRun run = kv("set", "foo");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).isEqualTo("kv: give either VALUE or --file PATH (see 'kv set --help')\n");
  }

  @Test
  void invalidServerAddress_exitsTwoSayingWhatIsExpected() {
    CommandRun run = kvWithoutServer("--server", "localhost", "get", "foo");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("expected HOST:PORT");
  }

  @Test
  void invalidTimeout_exitsTwoSayingWhatIsExpected() {
    CommandRun run = kv("--timeout", "soon", "get", "foo");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("expected a duration such as 500ms");
  }

  @Test
  void jsonOutput_reportsFailuresAsJsonOnStandardError() {
    assertThat(kv("-o", "json", "get", "nosuchkey"))
        .isEqualTo(
            new CommandRun(
                1,
                "",
                "{\"error\":\"key not found: nosuchkey\",\"code\":\"NOT_FOUND\",\"exitCode\":1}\n"));
    assertThat(kv("-o", "json", "set", "k"))
        .isEqualTo(
            new CommandRun(
                2,
                "",
                "{\"error\":\"give either VALUE or --file PATH\",\"code\":\"USAGE\","
                    + "\"exitCode\":2}\n"));
    assertThat(kv("-o", "json", "get", "--bogus", "k").err())
        .isEqualTo("{\"error\":\"unknown option '--bogus'\",\"code\":\"USAGE\",\"exitCode\":2}\n");
    kv("set", "lock", "me");
    CommandRun refused = kv("-o", "json", "set", "lock", "you", "--if-absent");
    assertThat(refused.exitCode()).isEqualTo(1);
    assertThat(refused.out()).startsWith("{\"key\":\"lock\",\"applied\":false,");
    assertThat(refused.err())
        .startsWith("{\"error\":\"not set: lock already exists")
        .endsWith("\"code\":\"CONDITION_FAILED\",\"exitCode\":1}\n");
    assertThat(kv("-o", "json", "del", "never").err())
        .isEqualTo("{\"error\":\"key not found: never\",\"code\":\"NOT_FOUND\",\"exitCode\":1}\n");
  }

  @Test
  void completion_printsABashScriptForEveryCommandAndOption() {
    CommandRun run = kv("completion");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .contains(
            "complete -F _complete_kv",
            "get set del list watch status export import snapshot bench completion help")
        .contains("--server", "--consistency", "--if-revision", "--start-after", "--ttl");
  }

  @Test
  void commandHelp_listsItsOwnOptionsFirst_thenTheGlobalOnes() {
    String help = kv("get", "--help").out();

    assertThat(help).isEqualTo(kv("help", "get").out());
    assertThat(help.indexOf("--consistency")).isLessThan(help.indexOf("Global options:"));
    assertThat(help.indexOf("Global options:"))
        .isLessThan(help.indexOf("  --server="))
        .isLessThan(help.indexOf("  --timeout="));
    assertThat(help.lines().filter(line -> line.contains("--server=HOST:PORT  ")).count())
        .isEqualTo(1);
  }

  @Test
  void help_listsTheCommandsBeforeTheOptions() {
    String help = kv("--help").out();

    assertThat(help.indexOf("Commands:")).isPositive().isLessThan(help.indexOf("  --server="));
    assertThat(help).contains("Global options:", "completion");
  }

  @Test
  void help_documentsTheCommandsTheEnvironmentAndTheExitCodes() {
    CommandRun run = kv("--help");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .contains("get", "set", "--server", "KV_SERVER", "--timeout", "KV_TIMEOUT")
        .contains(
            "Exit codes:",
            "1   the key was not found",
            "3   the server or etcd is unreachable",
            "4   a revision asked for is no longer kept",
            "6   the store's files are damaged");
  }

  @Test
  void failures_neverPrintAStackTraceUnlessVerbose() throws Exception {
    String closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = "127.0.0.1:" + socket.getLocalPort();
    }

    assertThat(kvWithoutServer("--server", closed, "get", "foo").err()).doesNotContain("\tat ");
    assertThat(kvWithoutServer("--server", closed, "--verbose", "get", "foo").err())
        .contains("\tat ")
        .endsWith("kv: cannot reach kv-server at " + closed + "\n");
  }

  // kv bench, on a tiny workload: it runs, and what it reports is consistent.

  @Test
  void bench_getWorkload_writesItsKeysFirst_andReportsEveryCallAsJson() {
    CommandRun run =
        kv(
            "-o",
            "json",
            "bench",
            "--ops",
            "300",
            "-c",
            "4",
            "--keys",
            "20",
            "--warmup",
            "200ms",
            "--connections",
            "2");

    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonObject result = JsonParser.parseString(run.out()).getAsJsonObject();
    assertThat(result.get("workload").getAsString()).isEqualTo("get");
    // The warmup's calls are not counted.
    assertThat(result.get("calls").getAsLong()).isEqualTo(300);
    assertThat(result.get("connections").getAsInt()).isEqualTo(2);
    // The warmup actually run: at least --warmup, longer while the compiler is still busy.
    assertThat(result.get("warmupSeconds").getAsDouble()).isGreaterThanOrEqualTo(0.2);
    assertThat(result.get("cpuMicrosPerCall").getAsDouble()).isPositive();
    assertThat(result.getAsJsonObject("errors").size()).isZero();
    double seconds = result.get("seconds").getAsDouble();
    assertThat(result.get("callsPerSecond").getAsDouble())
        .isCloseTo(300 / seconds, org.assertj.core.data.Percentage.withPercentage(1));
    JsonObject micros = result.getAsJsonObject("latencyMicros");
    long p50 = micros.get("p50").getAsLong();
    long p99 = micros.get("p99").getAsLong();
    long max = micros.get("max").getAsLong();
    assertThat(p50).isPositive().isLessThanOrEqualTo(p99);
    assertThat(p99).isLessThanOrEqualTo(max);
    assertThat(max).isLessThanOrEqualTo((long) (seconds * 1_000_000) + 1);
    assertThat(store.blocking().list(ListQuery.prefix("bench/")).entries()).hasSize(20);
  }

  @Test
  void bench_setWorkload_forADuration_printsAReportForPeople() {
    CommandRun run =
        kv("bench", "--workload", "set", "--duration", "300ms", "-c", "2", "--value-size", "8");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out().lines())
        .hasSize(5)
        .satisfies(
            lines -> {
              assertThat(lines.get(0))
                  .isEqualTo("workload   set, 2 in flight, 1,000 keys, 8-byte values");
              assertThat(lines.get(1)).startsWith("calls      ").contains("/s");
              assertThat(lines.get(2)).startsWith("latency    p50 ").contains("p99.9", "max");
              assertThat(lines.get(3)).isEqualTo("errors     none");
              assertThat(lines.get(4)).matches("cpu        [0-9.]+ us per call, kv's own");
            });
    assertThat(store.blocking().list(ListQuery.prefix("bench/")).entries())
        .isNotEmpty()
        .allSatisfy(entry -> assertThat(entry.value()).isEqualTo("v".repeat(8)));
  }

  @Test
  void bench_unreachableTarget_exitsThreeWithOneLine() {
    CommandRun run =
        CommandRun.execute(
            Cli.commandLine(),
            "--server",
            "127.0.0.1:1",
            "bench",
            "--ops",
            "5",
            "--workload",
            "set");

    assertThat(run)
        .isEqualTo(
            new CommandRun(
                3,
                "",
                "kv: every call failed; the first: cannot reach kv-server at 127.0.0.1:1\n"));
  }

  @Test
  void bench_invalidOptions_exitTwo() {
    assertThat(kv("bench", "--concurrency", "0").exitCode()).isEqualTo(2);
    assertThat(kv("bench", "--read-share", "1.5", "--workload", "mix").exitCode()).isEqualTo(2);
    assertThat(kv("bench", "--workload", "scan").exitCode()).isEqualTo(2);
  }

  @Test
  void status_printsTheServerItsHealthAndItsStore() {
    kv("set", "a", "1");

    CommandRun run = servingStatus();

    assertThat(run.exitCode()).isZero();
    assertThat(run.err()).isEmpty();
    assertThat(run.out())
        .matches(
            "server:     kv-server "
                + Pattern.quote(KvVersion.get() + " at " + server.address())
                + "\n"
                + "health:     serving\n"
                + "uptime:     [0-9dhms]+\n"
                + "store:      memory\n"
                + "revision:   2\n");
  }

  @Test
  void status_json_isOneObjectForScripts() {
    kv("set", "a", "1");
    servingStatus();

    CommandRun run = kv("-o", "json", "status");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out().lines()).hasSize(1);
    JsonObject status = JsonParser.parseString(run.out()).getAsJsonObject();
    JsonObject answering = status.getAsJsonObject("server");
    assertThat(answering.get("address").getAsString()).isEqualTo(server.address().toString());
    assertThat(answering.get("version").getAsString()).isEqualTo(KvVersion.get());
    assertThat(answering.get("serving").getAsBoolean()).isTrue();
    assertThat(answering.get("uptimeSeconds").getAsLong()).isNotNegative();
    assertThat(status.get("store").getAsString()).isEqualTo("memory");
    assertThat(status.get("revision").getAsLong()).isEqualTo(2);
    assertThat(status.has("members")).isFalse();
  }

  @Test
  void status_ofAServerWithoutTheCall_exitsThreeSayingToUpgradeIt() throws Exception {
    Server old =
        NettyServerBuilder.forAddress(new HostPort("127.0.0.1", 0).toSocketAddress())
            .build()
            .start();
    try {
      String address = "127.0.0.1:" + old.getPort();

      CommandRun run = kvWithoutServer("--server", address, "status");

      assertThat(run)
          .isEqualTo(
              new CommandRun(
                  3, "", "kv: kv-server at " + address + " does not answer status; upgrade it\n"));
    } finally {
      old.shutdownNow();
    }
  }

  /** {@code kv status}, once the server's first health check found its store answering. */
  private CommandRun servingStatus() {
    return await()
        .atMost(WAIT)
        .until(() -> kv("status"), run -> run.out().contains("health:     serving"));
  }

  private CommandRun kv(String... args) {
    String[] withServer = new String[args.length + 2];
    withServer[0] = "--server";
    withServer[1] = server.address().toString();
    System.arraycopy(args, 0, withServer, 2, args.length);
    return kvWithoutServer(withServer);
  }

  private static CommandRun kvWithoutServer(String... args) {
    return CommandRun.execute(Cli.commandLine(args), args);
  }

  /** A store that never answers: every call's future stays pending. */
  private static KvStore silentStore() {
    return (KvStore)
        Proxy.newProxyInstance(
            KvStore.class.getClassLoader(),
            new Class<?>[] {KvStore.class},
            (proxy, method, args) ->
                switch (method.getName()) {
                  case "close" -> null;
                  default -> new CompletableFuture<>();
                });
  }
}
