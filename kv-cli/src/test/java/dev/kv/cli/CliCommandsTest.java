package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which subcommands a command line builds: the one it runs, or all where they are shown. */
class CliCommandsTest {

  private static final String[] ALL = {
    "get",
    "set",
    "del",
    "list",
    "watch",
    "status",
    "export",
    "import",
    "snapshot",
    "bench",
    "completion",
    "help"
  };

  @Test
  void aCommand_buildsOnlyItself() {
    assertThat(Cli.commandLine("--server", "127.0.0.1:1", "get", "k").getSubcommands())
        .containsOnlyKeys("get");
  }

  @Test
  void helpCompletionAndArgumentsThatNameNoCommand_buildThemAll() {
    assertThat(Cli.commandLine("--help").getSubcommands()).containsOnlyKeys(ALL);
    assertThat(Cli.commandLine("help", "get").getSubcommands()).containsOnlyKeys(ALL);
    assertThat(Cli.commandLine("completion").getSubcommands()).containsOnlyKeys(ALL);
    assertThat(Cli.commandLine("gte", "k").getSubcommands()).containsOnlyKeys(ALL);
    assertThat(Cli.commandLine().getSubcommands()).containsOnlyKeys(ALL);
  }
}
