package dev.kv.envoy;

import dev.kv.core.remote.RemoteStore;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The system that {@code envoy/local.sh} runs, for the tests of one class
 * ({@code @RegisterExtension static}): up before them, down after, and a client through Envoy's kv
 * listener. A replica that a test stopped or killed is started again after it, so that each test
 * begins with every replica in rotation. The script's directory, logs included, is kept in {@code
 * envoy/target/local/} until the next run, for a failure's evidence.
 */
final class RunningSystem implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

  /**
   * The client's deadline: as long as Envoy's route timeout, so that Envoy's answer comes first.
   */
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

  private final int replicas;
  private final int etcdMembers;
  private LocalSystem system;
  private RemoteStore client;

  RunningSystem(int replicas, int etcdMembers) {
    this.replicas = replicas;
    this.etcdMembers = etcdMembers;
  }

  LocalSystem system() {
    return system;
  }

  /** A client of kv.KV through Envoy. */
  RemoteStore client() {
    return client;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    Path dir =
        LocalSystem.ROOT
            .resolve("envoy/target/local")
            .resolve(context.getRequiredTestClass().getSimpleName());
    deleteRecursively(dir);
    system = LocalSystem.up(dir, replicas, etcdMembers);
    client = RemoteStore.connect(system.kv(), CALL_TIMEOUT);
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    for (int n = 1; n <= replicas; n++) {
      if (!system.running("kv-server-" + n)) {
        system.start("kv-server-" + n);
      }
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (client != null) {
      client.close();
    }
    if (system != null) {
      system.close();
    }
  }

  private static void deleteRecursively(Path dir) throws Exception {
    if (Files.exists(dir)) {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    }
  }
}
