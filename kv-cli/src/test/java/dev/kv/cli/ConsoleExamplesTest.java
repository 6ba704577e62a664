package dev.kv.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kv.cli.ConsoleExamples.Block;
import dev.kv.cli.ConsoleExamples.Command;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConsoleExamplesTest {

  private static final List<String> MARKDOWN =
      List.of(
          "Text.",
          "",
          "```console",
          "$ bin/kv get foo",
          "bar",
          "$ echo $?",
          "0",
          "```",
          "",
          "```sh",
          "$ not a console block",
          "```",
          "<!-- not run: needs etcd -->",
          "",
          "```console",
          "$ bin/kv --etcd http://127.0.0.1:2379 get foo",
          "```");

  @Test
  void parse_findsEachCommandWithTheOutputShownAfterIt_andItsLine() {
    List<Block> blocks = ConsoleExamples.parse(MARKDOWN);

    assertThat(blocks).hasSize(2);
    assertThat(blocks.get(0).notRun()).isNull();
    assertThat(blocks.get(0).commands())
        .containsExactly(
            new Command(4, "bin/kv get foo", List.of("bar")),
            new Command(6, "echo $?", List.of("0")));
  }

  @Test
  void parse_keepsTheReasonOfABlockMarkedNotRun() {
    Block etcd = ConsoleExamples.parse(MARKDOWN).get(1);

    assertThat(etcd.notRun()).isEqualTo("needs etcd");
    assertThat(etcd.line()).isEqualTo(15);
  }

  @Test
  void parse_refusesOutputBeforeAnyCommand() {
    assertThatThrownBy(() -> ConsoleExamples.parse(List.of("```console", "bar", "```")))
        .hasMessageContaining("line 2");
  }

  @Test
  void printed_comparesEveryLine_andThePlaceholderMatchesAnyText() {
    Command command = new Command(1, "bin/kv -o json bench", List.of("{\"rate\":...,\"ok\":1}"));

    assertThat(command.printed(List.of("{\"rate\":9876.5,\"ok\":1}"))).isTrue();
    assertThat(command.printed(List.of("{\"rate\":9876.5,\"ok\":2}"))).isFalse();
    assertThat(command.printed(List.of("{\"rate\":9876.5,\"ok\":1}", "more"))).isFalse();
    assertThat(command.printed(List.of())).isFalse();
  }
}
