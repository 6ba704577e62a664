package dev.kv.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An application that is itself a module uses kv-core from the module path: it reaches the port and
 * the adapters, gRPC's transport resolves, and the plumbing stays hidden.
 */
@Timeout(60)
class ModulePathTest {

  private static final String MODULE = "module app { requires dev.kv.core; }";

  private static final String MAIN =
      """
      package app;

      import dev.kv.core.KvException;
      import dev.kv.core.KvStore;
      import dev.kv.core.config.HostPort;
      import dev.kv.core.memory.MemoryStore;
      import dev.kv.core.remote.RemoteStore;
      import java.time.Duration;
      import java.util.concurrent.CompletionException;

      public class Main {
        public static void main(String[] args) throws Exception {
          try (KvStore store = new MemoryStore()) {
            store.blocking().set("greeting", "hello");
            System.out.println(store.blocking().get("greeting").orElseThrow());
          }
          try (KvStore remote =
              RemoteStore.connect(HostPort.parse(args[0]), Duration.ofSeconds(10))) {
            remote.checkHealth().join();
          } catch (CompletionException e) {
            System.out.println(((KvException) e.getCause()).code());
          }
          try {
            Class.forName("dev.kv.core.grpc.GrpcErrors").getMethod("unwrap", Throwable.class)
                .invoke(null, new RuntimeException());
          } catch (IllegalAccessException e) {
            System.out.println("plumbing hidden");
          }
        }
      }
      """;

  @TempDir Path work;

  @Test
  void applicationModule_usesTheStores_andCannotReachThePlumbing() throws Exception {
    Path sources = work.resolve("src");
    Files.createDirectories(sources.resolve("app"));
    Files.writeString(sources.resolve("module-info.java"), MODULE);
    Files.writeString(sources.resolve("app/Main.java"), MAIN);
    String modulePath = Applications.path(Applications.kvCoreAndItsDependencies());
    Path classes = work.resolve("classes");
    ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
    int compiled =
        ToolProvider.getSystemJavaCompiler()
            .run(
                null,
                diagnostics,
                diagnostics,
                "--module-path",
                modulePath,
                "-d",
                classes.toString(),
                sources.resolve("module-info.java").toString(),
                sources.resolve("app/Main.java").toString());
    assertThat(compiled).as("compiles: %s", diagnostics).isZero();

    String printed =
        Applications.java(
            "--module-path",
            modulePath + File.pathSeparator + classes,
            "--module",
            "app/app.Main",
            "127.0.0.1:" + closedPort());

    assertThat(printed).isEqualTo("hello\nUNAVAILABLE\nplumbing hidden\n");
  }

  /** A loopback port that nothing listens on. */
  private static int closedPort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
