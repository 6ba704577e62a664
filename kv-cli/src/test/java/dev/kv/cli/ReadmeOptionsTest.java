package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The README's option tables say what {@code --help} says, for {@code kv} and {@code kv-server}:
 * every option that help lists (hidden ones aside) has a row, with its environment variable and its
 * default, and no row names an option that help does not list.
 */
class ReadmeOptionsTest {

  private static final Path README =
      Path.of(System.getProperty("kv.root")).toAbsolutePath().resolve("README.md");
  private static final Pattern CODE = Pattern.compile("`([^`]*)`");
  private static final Pattern ENV_DEFAULT =
      Pattern.compile("\\$\\{env:([A-Z0-9_]+)(?::-([^}]*))?}");

  @Test
  void kvTable_matchesItsHelp() throws IOException {
    assertTableMatchesHelp("## Using `kv`", Cli.commandLine());
  }

  @Test
  void kvServerTable_matchesItsHelp() throws IOException {
    assertTableMatchesHelp("## Running `kv-server`", new CommandLine(new dev.kv.server.Main()));
  }

  /** One option as a table row or help describes it: its environment variable and default. */
  private record Row(String env, String defaultValue) {}

  private static void assertTableMatchesHelp(String section, CommandLine command)
      throws IOException {
    String help = command.getUsageMessage(CommandLine.Help.Ansi.OFF);
    Map<String, Row> fromHelp = new LinkedHashMap<>();
    for (OptionSpec option : command.getCommandSpec().options()) {
      if (option.hidden() || option.usageHelp() || option.versionHelp()) {
        continue;
      }
      Row row = fromModel(option);
      if (row.env() != null) {
        assertThat(help).as("help of " + option.longestName()).contains("Env: " + row.env());
      }
      fromHelp.put(option.longestName(), row);
    }

    assertThat(table(section, command)).isEqualTo(fromHelp);
  }

  private static Row fromModel(OptionSpec option) {
    // As annotated, ${env:...} and all; picocli writes a missing one as "null".
    String original = option.defaultValueString(false);
    if (original.equals("null")) {
      original = null;
    }
    Matcher env = ENV_DEFAULT.matcher(original == null ? "" : original);
    String defaultValue = env.matches() ? env.group(2) : original;
    // A flag is off unless given.
    if (defaultValue == null && option.arity().min() == 0) {
      defaultValue = "false";
    }
    return new Row(env.matches() ? env.group(1) : null, defaultValue);
  }

  /** The rows of the first table under {@code section}, by option, as help would name them. */
  private static Map<String, Row> table(String section, CommandLine command) throws IOException {
    List<String> lines = Files.readAllLines(README);
    int start = lines.indexOf(section);
    assertThat(start).as(section + " in README.md").isNotNegative();
    Map<String, Row> rows = new LinkedHashMap<>();
    boolean inTable = false;
    for (String line : lines.subList(start + 1, lines.size())) {
      if (!line.startsWith("|")) {
        if (inTable) {
          break;
        }
        continue;
      }
      inTable = true;
      String[] cells = line.split("(?<!\\\\)\\|");
      if (!cells[1].contains("`-")) {
        continue;
      }
      List<String> options = new ArrayList<>();
      for (String code : codes(cells[1])) {
        OptionSpec option = command.getCommandSpec().findOption(code.split(" ")[0]);
        assertThat(option).as("README row for " + code + ": an option of --help").isNotNull();
        if (!options.contains(option.longestName())) {
          options.add(option.longestName());
        }
      }
      List<String> envs = codes(cells[2]);
      assertThat(envs)
          .as("environment variables of " + options)
          .satisfiesAnyOf(
              list -> assertThat(list).isEmpty(), list -> assertThat(list).hasSameSizeAs(options));
      for (int i = 0; i < options.size(); i++) {
        rows.put(
            options.get(i),
            new Row(envs.isEmpty() ? null : envs.get(i), defaultValue(cells[3].strip())));
      }
    }
    return rows;
  }

  /** A default as the model holds it: `5s` is 5s, off is false, words (system CAs) are none. */
  private static String defaultValue(String cell) {
    List<String> codes = codes(cell);
    if (!codes.isEmpty()) {
      return codes.get(0);
    }
    return cell.equals("off") ? "false" : null;
  }

  private static List<String> codes(String cell) {
    List<String> codes = new ArrayList<>();
    Matcher code = CODE.matcher(cell);
    while (code.find()) {
      codes.add(code.group(1));
    }
    return codes;
  }
}
