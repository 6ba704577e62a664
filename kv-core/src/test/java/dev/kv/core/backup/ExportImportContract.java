package dev.kv.core.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.KvStore;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.StoreValues;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export and import, the same on every store: a subclass gives new stores of its kind, a source and
 * a target.
 */
@Timeout(120)
public abstract class ExportImportContract {

  @TempDir Path files;

  protected KvStore source;
  protected KvStore target;

  /** A new store holding no keys; called twice per test. */
  protected abstract KvStore newStore() throws Exception;

  @BeforeEach
  void openStores() throws Exception {
    source = newStore();
    target = newStore();
  }

  @AfterEach
  void closeStores() {
    source.close();
    target.close();
  }

  @Test
  void roundTrip_givesTheTargetTheSameKeysAndValues() throws Exception {
    source.blocking().set("a", "one");
    source.blocking().set("b/ünï€ode", "snow ☃ and \"quotes\"\nand a newline");
    source.blocking().set("c", "");
    source.blocking().set("a", "one, again");

    Importer.Result result = Importer.into(target).write(check(export(source)));

    assertThat(result.written()).isEqualTo(3);
    assertThat(result.skipped()).isZero();
    assertThat(valuesOf(target)).isEqualTo(valuesOf(source));
  }

  @Test
  void export_headerEntriesAndTrailer_describeTheStoreAtOneRevision() throws Exception {
    source.blocking().set("k1", "v1");
    long last = source.blocking().set("k2", "v2");

    List<String> lines = export(source).lines;
    JsonObject header = json(lines.get(0));
    JsonObject trailer = json(lines.get(lines.size() - 1));

    assertThat(header.get("format").getAsString()).isEqualTo("kv-export");
    assertThat(header.get("version").getAsInt()).isEqualTo(1);
    assertThat(header.get("store").getAsString()).isEqualTo(kind());
    assertThat(header.get("revision").getAsLong()).isEqualTo(last);
    assertThat(header.get("prefix").getAsString()).isEmpty();
    assertThat(lines.subList(1, 3))
        .containsExactly(
            "{\"key\":\"k1\",\"value\":\"v1\",\"create_revision\":"
                + (last - 1)
                + ",\"mod_revision\":"
                + (last - 1)
                + ",\"version\":1}",
            "{\"key\":\"k2\",\"value\":\"v2\",\"create_revision\":"
                + last
                + ",\"mod_revision\":"
                + last
                + ",\"version\":1}");
    assertThat(trailer.get("count").getAsLong()).isEqualTo(2);
    assertThat(lines).hasSize(4);
  }

  @Test
  void export_ofAPrefix_holdsOnlyItsKeys() throws Exception {
    source.blocking().set("app/x", "1");
    source.blocking().set("apple", "2");
    source.blocking().set("app/y", "3");

    Exported exported = export(Exporter.of(source).prefix("app/"));

    assertThat(json(exported.lines.get(0)).get("prefix").getAsString()).isEqualTo("app/");
    Importer.into(target).write(check(exported));
    assertThat(valuesOf(target)).containsOnlyKeys("app/x", "app/y");
  }

  @Test
  void export_ofAnEmptyStore_importsNothing() throws Exception {
    Exported exported = export(source);

    assertThat(exported.lines).hasSize(2);
    assertThat(Importer.into(target).write(check(exported)).written()).isZero();
  }

  /** Only once the stores give times to live in listings (ListQuery.withTtl). */
  @Test
  void roundTrip_keepsEachKeysTimeToLive_withinASecond() throws Exception {
    source.blocking().set("short", "s", Duration.ofSeconds(100));
    source.blocking().set("long", "l", Duration.ofHours(2));
    source.blocking().set("forever", "f");

    Importer.into(target).write(check(export(source)));

    Page page = target.blocking().list(ListQuery.prefix("").withTtl());
    assertThat(page.ttlSeconds("short")).isBetween(98L, 100L);
    assertThat(page.ttlSeconds("long")).isBetween(7198L, 7200L);
    assertThat(page.ttlSeconds("forever")).isZero();
  }

  @Test
  void import_writesAKeyWithItsTimeToLive() throws Exception {
    Path file = handMade(entryLine("brief", "gone soon", 1), entryLine("kept", "stays", 0));

    Importer.into(target).write(ExportFile.check(file, false));

    assertThat(target.blocking().get("kept")).contains("stays");
    await().atMost(Duration.ofSeconds(60)).until(() -> target.blocking().get("brief").isEmpty());
    assertThat(target.blocking().get("kept")).contains("stays");
  }

  /** Only once the stores read a listing at a revision (ListQuery.atRevision). */
  @Test
  void export_whileWritersRun_holdsTheStoreAsOfItsRevision() throws Exception {
    for (int i = 0; i < 2000; i++) {
      source.set(String.format("w/%05d", i), "before");
    }
    source.blocking().set("w/last", "before");
    AtomicInteger writes = new AtomicInteger();
    Exporter exporter =
        Exporter.of(source)
            .pageSize(100, 1 << 20)
            .progress(
                (keys, bytes) -> {
                  // Writers run between pages: every key changes, new ones appear.
                  source.blocking().set(String.format("w/%05d", keys), "after");
                  source.blocking().set("w/new" + writes.incrementAndGet(), "after");
                });

    Exported exported = export(exporter);

    long revision = json(exported.lines.get(0)).get("revision").getAsLong();
    Map<String, String> asOfRevision =
        StoreValues.of(source, ListQuery.prefix("").atRevision(revision));
    Importer.into(target).write(check(exported));
    Map<String, String> imported = valuesOf(target);
    assertThat(writes.get()).isGreaterThan(10);
    assertThat(asOfRevision).doesNotContainValue("after").hasSize(2001);
    assertThat(
            asOfRevision.keySet().stream()
                .filter(key -> !asOfRevision.get(key).equals(imported.get(key)))
                .toList())
        .as("keys whose imported value is not the one at the export's revision")
        .isEmpty();
    assertThat(imported).hasSameSizeAs(asOfRevision);
  }

  @Test
  void export_fromAStoreThatIgnoresTheRevision_failsRatherThanMixRevisions() throws Exception {
    for (int i = 0; i < 30; i++) {
      source.set(String.format("k%02d", i), "v");
    }
    source.blocking().set("last", "v");
    // As a kv-server older than listings at a revision: every page at the latest revision.
    KvStore old =
        intercepting(
            source,
            (method, args, call) -> {
              if (method.equals("list")) {
                ListQuery query = (ListQuery) args[0];
                if (query.revision() != 0) {
                  source.blocking().set("written/meanwhile", "v");
                  return source.list(query.atRevision(0));
                }
              }
              return call.get();
            });

    assertThatThrownBy(
            () -> export(Exporter.of(old).source("the old server").pageSize(10, 1 << 20)))
        .isInstanceOf(KvException.class)
        .hasMessageStartingWith("the old server answered a page at revision ")
        .hasMessageEndingWith(
            "it reads no listing at a revision (a kv-server older than this kv?);" + " upgrade it");
  }

  @Test
  void export_holdsOnePageAtATime_writingItOutBeforeReadingTheNext() throws Exception {
    for (int i = 0; i < 3000; i++) {
      source.set(String.format("many/%05d", i), "x".repeat(100));
    }
    source.blocking().set("many/last", "x");
    List<ListQuery> queries = new ArrayList<>();
    List<Long> linesOutAtEachRead = new ArrayList<>();
    List<Integer> pageSizes = new ArrayList<>();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    AtomicLong linesOut = new AtomicLong();
    OutputStream out =
        new OutputStream() {
          @Override
          public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
          }

          @Override
          public void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
            for (int i = off; i < off + len; i++) {
              if (b[i] == '\n') {
                linesOut.incrementAndGet();
              }
            }
          }
        };
    KvStore watched =
        intercepting(
            source,
            (method, args, call) -> {
              if (!method.equals("list") || ((ListQuery) args[0]).keysOnly()) {
                // Not a page of the export: the store's status, which names its kind.
                return call.get();
              }
              queries.add((ListQuery) args[0]);
              linesOutAtEachRead.add(linesOut.get());
              @SuppressWarnings("unchecked")
              CompletableFuture<Page> page = (CompletableFuture<Page>) call.get();
              return page.thenApply(
                  listed -> {
                    pageSizes.add(listed.entries().size());
                    return listed;
                  });
            });

    Exporter.Result result = Exporter.of(watched).pageSize(10_000, 8 * 1024).writeTo(out);

    assertThat(result.count()).isEqualTo(3001);
    assertThat(pageSizes)
        .hasSizeGreaterThan(30)
        .allSatisfy(size -> assertThat(size).isLessThan(80));
    // Before each page is read, every key of the pages before is out: none is held longer.
    long keysBefore = 0;
    for (int i = 1; i < queries.size(); i++) {
      keysBefore += pageSizes.get(i - 1);
      assertThat(linesOutAtEachRead.get(i)).isEqualTo(1 + keysBefore);
    }
    long revision = json(lines(bytes.toByteArray()).get(0)).get("revision").getAsLong();
    assertThat(queries).allSatisfy(query -> assertThat(query.includeTtl()).isTrue());
    assertThat(queries.subList(1, queries.size()))
        .allSatisfy(query -> assertThat(query.revision()).isEqualTo(revision));
    assertThat(queries).allSatisfy(query -> assertThat(query.maxBytes()).isEqualTo(8 * 1024));
  }

  @Test
  void import_truncatedFile_isRefusedAndTheTargetUntouched() throws Exception {
    byte[] whole = wholeExport();

    assertRefused(Arrays.copyOf(whole, whole.length / 2), "is damaged: line ", "cut short");
  }

  @Test
  void import_fileCutAtALineEnd_isRefusedAsTruncated() throws Exception {
    byte[] whole = wholeExport();
    int cut = new String(whole, StandardCharsets.UTF_8).lastIndexOf("\n", whole.length - 2) + 1;

    assertRefused(Arrays.copyOf(whole, cut), "is truncated: it ends after 20 keys");
  }

  @Test
  void import_aBitFlippedInTheMiddle_isRefusedAndTheTargetUntouched() throws Exception {
    byte[] damaged = wholeExport();
    int middle = new String(damaged, StandardCharsets.UTF_8).indexOf("value-10") + 7;
    damaged[middle] ^= 0x01;

    assertRefused(damaged, "do not match their SHA-256 checksum");
  }

  @Test
  void import_countThatDoesNotMatch_isRefused() throws Exception {
    String whole = new String(wholeExport(), StandardCharsets.UTF_8);
    String edited = whole.replace("{\"count\":20,", "{\"count\":21,");

    assertRefused(
        edited.getBytes(StandardCharsets.UTF_8), "its trailer counts 21 keys, but it holds 20");
  }

  @Test
  void import_randomBytes_isRefusedAsNotAnExport() throws Exception {
    byte[] random = new byte[100_000];
    new Random(19).nextBytes(random);

    assertRefused(random, "is not a kv export: its first line is not a kv-export header");
  }

  @Test
  void import_otherJsonLines_areRefusedAsNotAnExport() throws Exception {
    assertRefused(
        "{\"key\":\"a\",\"value\":\"b\"}\n".getBytes(StandardCharsets.UTF_8), "is not a kv export");
  }

  @Test
  void import_emptyFile_isRefused() throws Exception {
    assertRefused(new byte[0], "is empty: it is not a kv export");
  }

  @Test
  void import_laterVersion_isRefusedNamingIt() throws Exception {
    String whole = new String(wholeExport(), StandardCharsets.UTF_8);

    assertRefused(
        whole
            .replace("\"version\":1,\"store\"", "\"version\":2,\"store\"")
            .getBytes(StandardCharsets.UTF_8),
        "it is a kv-export of version 2; this kv reads version 1");
  }

  @Test
  void import_forced_takesAFileWhoseCountOrChecksumDoesNotMatch() throws Exception {
    String whole = new String(wholeExport(), StandardCharsets.UTF_8);
    Path edited = write(whole.replace("value-10", "value-XX").getBytes(StandardCharsets.UTF_8));

    ExportFile file = ExportFile.check(edited, true);
    Importer.into(target).write(file);

    assertThat(file.mismatch()).hasValueSatisfying(m -> assertThat(m).contains("SHA-256"));
    assertThat(target.blocking().get("key-10")).contains("value-XX");
  }

  @Test
  void import_forced_stillRefusesALineThatDoesNotParse() throws Exception {
    byte[] whole = wholeExport();

    Path cut = write(Arrays.copyOf(whole, whole.length / 2));

    assertThatThrownBy(() -> ExportFile.check(cut, true))
        .isInstanceOf(ExportFileException.class)
        .hasMessageContaining("is damaged");
  }

  @Test
  void import_valueThatIsNotText_isRefusedNamingTheKey_beforeWritingAnything() throws Exception {
    Path file =
        handMade(
            entryLine("a-text", "fine", 0),
            ExportFormat.entry(KeyValue.binary("b-bytes", new byte[] {(byte) 0xff, 0}, 3, 3, 1), 0),
            ExportFormat.entry(KeyValue.binary("c-bytes", new byte[] {(byte) 0xfe}, 4, 4, 1), 0));

    assertThatThrownBy(() -> ExportFile.check(file, true))
        .isInstanceOf(ExportFileException.class)
        .hasMessageContaining("the value of key 'b-bytes' is not UTF-8 text");
    assertThat(valuesOf(target)).isEmpty();
  }

  @Test
  void onConflictFail_refusesNamingTheFirstKeyThatExists_beforeWritingAnything() throws Exception {
    for (int i = 0; i < 30; i++) {
      source.blocking().set(String.format("k%02d", i), "new");
    }
    target.blocking().set("a-before", "old");
    target.blocking().set("k17", "old");
    target.blocking().set("k25", "old");
    target.blocking().set("z-after", "old");
    Map<String, String> before = valuesOf(target);
    ExportFile file = check(export(source));

    assertThatThrownBy(() -> Importer.into(target).write(file))
        .isInstanceOfSatisfying(
            ImportConflictException.class, e -> assertThat(e.key()).isEqualTo("k17"))
        .hasMessageContaining("key 'k17' of ")
        .hasMessageContaining("nothing was written");
    assertThat(valuesOf(target)).isEqualTo(before);
  }

  @Test
  void onConflictFail_keyAnotherWriterMakesDuringTheImport_isKeptAndStopsIt() throws Exception {
    for (int i = 0; i < 100; i++) {
      source.set(String.format("k%03d", i), "new");
    }
    source.blocking().set("last", "new");
    // Another writer makes k050 after the check, just before the import writes it.
    KvStore racing =
        intercepting(
            target,
            (method, args, call) -> {
              if (args != null && args.length > 0 && "k050".equals(args[0])) {
                target.blocking().set("k050", "theirs");
              }
              return call.get();
            });

    assertThatThrownBy(
            () ->
                Importer.into(racing)
                    .window(1, Importer.DEFAULT_WINDOW_BYTES)
                    .write(check(export(source))))
        .isInstanceOfSatisfying(
            ImportConflictException.class, e -> assertThat(e.key()).isEqualTo("k050"))
        .hasMessageEndingWith(" during the import; 50 keys were written before it");
    assertThat(target.blocking().get("k050")).contains("theirs");
    assertThat(valuesOf(target)).hasSize(51);
  }

  @Test
  void onConflictFail_targetWithOtherKeysOnly_importsEverything() throws Exception {
    source.blocking().set("b", "1");
    source.blocking().set("d", "2");
    for (String key : List.of("a", "c", "e")) {
      target.blocking().set(key, "theirs");
    }

    Importer.into(target).write(check(export(source)));

    assertThat(valuesOf(target)).containsOnlyKeys("a", "b", "c", "d", "e");
  }

  @Test
  void onConflictSkip_keepsTheTargetsKeysAndCountsThem() throws Exception {
    source.blocking().set("a", "file");
    source.blocking().set("b", "file");
    source.blocking().set("c", "file");
    target.blocking().set("b", "target");

    Importer.Result result =
        Importer.into(target).onConflict(Importer.OnConflict.SKIP).write(check(export(source)));

    assertThat(result.written()).isEqualTo(2);
    assertThat(result.skipped()).isEqualTo(1);
    assertThat(valuesOf(target)).isEqualTo(Map.of("a", "file", "b", "target", "c", "file"));
  }

  @Test
  void onConflictOverwrite_writesTheFilesValues() throws Exception {
    source.blocking().set("a", "file");
    source.blocking().set("b", "file");
    target.blocking().set("b", "target");

    Importer.Result result =
        Importer.into(target)
            .onConflict(Importer.OnConflict.OVERWRITE)
            .write(check(export(source)));

    assertThat(result.written()).isEqualTo(2);
    assertThat(valuesOf(target)).isEqualTo(Map.of("a", "file", "b", "file"));
  }

  @Test
  void import_keepsManyWritesInFlight_neverMoreThanTheWindow() throws Exception {
    for (int i = 0; i < 500; i++) {
      source.set(String.format("k%03d", i), "v");
    }
    source.blocking().set("last", "v");
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    Executor later = CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS);
    KvStore slow =
        intercepting(
            target,
            (method, args, call) -> {
              if (!method.equals("set")) {
                return call.get();
              }
              most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
              CompletableFuture<?> write = (CompletableFuture<?>) call.get();
              return write.thenApplyAsync(
                  revision -> {
                    inFlight.decrementAndGet();
                    return revision;
                  },
                  later);
            });

    Importer.Result result =
        Importer.into(slow)
            .onConflict(Importer.OnConflict.OVERWRITE)
            .window(64, Importer.DEFAULT_WINDOW_BYTES)
            .write(check(export(source)));

    assertThat(result.written()).isEqualTo(501);
    assertThat(most.get()).isBetween(2, 64);
  }

  @Test
  void import_keepsNoMoreBytesInFlightThanTheWindow_butAlwaysOneWrite() throws Exception {
    for (int i = 0; i < 40; i++) {
      source.set(String.format("k%03d", i), "v".repeat(i == 20 ? 50_000 : 1_000));
    }
    source.blocking().set("last", "v");
    AtomicLong bytesInFlight = new AtomicLong();
    AtomicLong most = new AtomicLong();
    Executor later = CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS);
    KvStore slow =
        intercepting(
            target,
            (method, args, call) -> {
              if (!method.equals("set")) {
                return call.get();
              }
              long bytes = ((String) args[0]).length() + ((String) args[1]).length();
              most.accumulateAndGet(bytesInFlight.addAndGet(bytes), Math::max);
              CompletableFuture<?> write = (CompletableFuture<?>) call.get();
              return write.thenApplyAsync(
                  revision -> {
                    bytesInFlight.addAndGet(-bytes);
                    return revision;
                  },
                  later);
            });

    Importer.Result result =
        Importer.into(slow)
            .onConflict(Importer.OnConflict.OVERWRITE)
            .window(1000, 10_000)
            .write(check(export(source)));

    assertThat(result.written()).isEqualTo(41);
    assertThat(valuesOf(target).get("k020")).hasSize(50_000);
    // The one large write went alone; the others, about ten at a time.
    assertThat(most.get()).isBetween(2_000L, 50_004L);
  }

  @Test
  void import_aWriteThatFails_stopsNamingTheKeyAndHowManyWereWritten() throws Exception {
    for (int i = 0; i < 100; i++) {
      source.set(String.format("k%03d", i), "v");
    }
    source.blocking().set("last", "v");
    KvStore failing =
        intercepting(
            target,
            (method, args, call) ->
                method.equals("set") && args[0].equals("k050")
                    ? CompletableFuture.failedFuture(
                        new KvException(KvException.Code.UNAVAILABLE, "the disk is gone"))
                    : call.get());

    assertThatThrownBy(
            () ->
                Importer.into(failing)
                    .onConflict(Importer.OnConflict.OVERWRITE)
                    .window(1, Importer.DEFAULT_WINDOW_BYTES)
                    .write(check(export(source))))
        .isInstanceOfSatisfying(
            KvException.class, e -> assertThat(e.code()).isEqualTo(KvException.Code.UNAVAILABLE))
        .hasMessage(
            "writing key 'k050' failed: the disk is gone; 50 keys were written (import the"
                + " file again with overwrite to finish)");
    assertThat(valuesOf(target)).hasSize(50);
  }

  /** The kind the store's header names. */
  protected abstract String kind();

  // ---- helpers

  /** An export, as bytes and as its lines. */
  record Exported(byte[] bytes, List<String> lines) {}

  private Exported export(KvStore store) throws IOException {
    return export(Exporter.of(store));
  }

  private static Exported export(Exporter exporter) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    exporter.writeTo(out);
    return new Exported(out.toByteArray(), lines(out.toByteArray()));
  }

  private static List<String> lines(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8).lines().toList();
  }

  private ExportFile check(Exported exported) throws IOException {
    return ExportFile.check(write(exported.bytes), false);
  }

  private byte[] wholeExport() throws IOException {
    for (int i = 0; i < 20; i++) {
      source.blocking().set(String.format("key-%02d", i), "value-" + i);
    }
    return export(source).bytes;
  }

  /** Checks that importing {@code bytes} is refused in one line, the target as it was. */
  private void assertRefused(byte[] bytes, String... saying) throws Exception {
    target.blocking().set("already", "here");
    Map<String, String> before = valuesOf(target);
    Path file = write(bytes);

    assertThatThrownBy(
            () ->
                Importer.into(target)
                    .onConflict(Importer.OnConflict.OVERWRITE)
                    .write(ExportFile.check(file, false)))
        .isInstanceOfSatisfying(
            ExportFileException.class,
            e -> {
              assertThat(e.code()).isEqualTo(KvException.Code.INVALID_ARGUMENT);
              assertThat(e.getMessage()).doesNotContain("\n").startsWith(file.toString());
              for (String part : saying) {
                assertThat(e.getMessage()).contains(part);
              }
            });
    assertThat(valuesOf(target)).isEqualTo(before);
  }

  private Path write(byte[] bytes) throws IOException {
    Path file = Files.createTempFile(files, "export", ".jsonl");
    Files.write(file, bytes);
    return file;
  }

  private static String entryLine(String key, String value, long ttlSeconds) {
    return ExportFormat.entry(new KeyValue(key, value, 1, 1, 1), ttlSeconds);
  }

  /** A whole export of {@code entryLines}, as another program could write it. */
  private Path handMade(String... entryLines) throws IOException {
    StringBuilder file =
        new StringBuilder(
            ExportFormat.header(
                    new ExportHeader("memory", "by hand", "", 1, java.time.Instant.now()))
                + "\n");
    for (String line : entryLines) {
      file.append(line).append('\n');
    }
    byte[] lines = file.toString().getBytes(StandardCharsets.UTF_8);
    String sum = HexFormat.of().formatHex(Exporter.sha256().digest(lines));
    file.append(ExportFormat.trailer(entryLines.length, sum)).append('\n');
    return write(file.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static JsonObject json(String line) {
    return JsonParser.parseString(line).getAsJsonObject();
  }

  /** Every key of {@code store} and its value. */
  protected static Map<String, String> valuesOf(KvStore store) {
    return StoreValues.of(store);
  }

  /** Decides what a call to the store gives: {@code call} makes it as asked. */
  @FunctionalInterface
  interface Interception {
    Object handle(String method, Object[] args, Call call) throws Exception;
  }

  @FunctionalInterface
  interface Call {
    Object get() throws Exception;
  }

  /** {@code store}, with its calls passed through {@code interception}. */
  static KvStore intercepting(KvStore store, Interception interception) {
    InvocationHandler handler =
        (proxy, method, args) -> {
          if (method.isDefault()) {
            // Through the proxy, so that blocking() and the one-argument overloads are seen too.
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          return interception.handle(
              method.getName(),
              args,
              () -> {
                try {
                  return method.invoke(store, args);
                } catch (InvocationTargetException e) {
                  throw (Exception) e.getCause();
                }
              });
        };
    return (KvStore)
        Proxy.newProxyInstance(
            KvStore.class.getClassLoader(), new Class<?>[] {KvStore.class}, handler);
  }
}
