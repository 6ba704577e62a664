package dev.kv.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code console} blocks of a Markdown text, as a reader sees them: each line that starts with
 * {@code $ } is a command, and the lines up to the next command are what it prints. A block right
 * after {@code <!-- not run: REASON -->} is not meant to be run. In an output line, {@code ...}
 * stands for text that varies from run to run.
 */
final class ConsoleExamples {

  static final String PLACEHOLDER = "...";

  private static final String FENCE = "```";
  private static final String PROMPT = "$ ";
  private static final Pattern NOT_RUN = Pattern.compile("<!--\\s*not run:\\s*(.+?)\\s*-->");

  /** A command at {@code line} (1-based) of the text, and the output shown for it. */
  record Command(int line, String text, List<String> output) {

    /** Whether {@code actual} is the output shown, {@link #PLACEHOLDER} matching any text. */
    boolean printed(List<String> actual) {
      if (actual.size() != output.size()) {
        return false;
      }
      for (int i = 0; i < output.size(); i++) {
        if (!pattern(output.get(i)).matcher(actual.get(i)).matches()) {
          return false;
        }
      }
      return true;
    }

    private static Pattern pattern(String shown) {
      List<String> literals = new ArrayList<>();
      for (String part : shown.split(Pattern.quote(PLACEHOLDER), -1)) {
        literals.add(Pattern.quote(part));
      }
      return Pattern.compile(String.join(".*", literals));
    }
  }

  /** A block starting at {@code line}; {@code notRun} says why it is not run, or is null. */
  record Block(int line, String notRun, List<Command> commands) {}

  private ConsoleExamples() {}

  static List<Block> parse(List<String> markdown) {
    List<Block> blocks = new ArrayList<>();
    for (int i = 0; i < markdown.size(); i++) {
      String line = markdown.get(i);
      if (line.startsWith(FENCE) && !line.equals(FENCE)) {
        int end = closingFence(markdown, i);
        if (line.strip().equals(FENCE + "console")) {
          blocks.add(new Block(i + 1, notRunReason(markdown, i), commands(markdown, i + 1, end)));
        }
        i = end;
      }
    }
    return blocks;
  }

  private static int closingFence(List<String> markdown, int open) {
    for (int i = open + 1; i < markdown.size(); i++) {
      if (markdown.get(i).strip().equals(FENCE)) {
        return i;
      }
    }
    throw new IllegalArgumentException("line " + (open + 1) + ": the block is never closed");
  }

  /** The reason in a not-run comment on the last non-blank line before {@code fence}, or null. */
  private static String notRunReason(List<String> markdown, int fence) {
    for (int i = fence - 1; i >= 0; i--) {
      if (!markdown.get(i).isBlank()) {
        Matcher matcher = NOT_RUN.matcher(markdown.get(i).strip());
        return matcher.matches() ? matcher.group(1) : null;
      }
    }
    return null;
  }

  private static List<Command> commands(List<String> markdown, int from, int to) {
    List<Command> commands = new ArrayList<>();
    for (int i = from; i < to; i++) {
      String line = markdown.get(i);
      if (line.startsWith(PROMPT)) {
        commands.add(new Command(i + 1, line.substring(PROMPT.length()), new ArrayList<>()));
      } else if (commands.isEmpty()) {
        throw new IllegalArgumentException(
            "line " + (i + 1) + ": output before any command in the block");
      } else {
        commands.get(commands.size() - 1).output().add(line);
      }
    }
    return commands.stream()
        .map(c -> new Command(c.line(), c.text(), List.copyOf(c.output())))
        .toList();
  }
}
