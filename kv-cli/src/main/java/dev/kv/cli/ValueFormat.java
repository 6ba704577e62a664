package dev.kv.cli;

import dev.kv.core.KeyValue;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import picocli.CommandLine.Option;

/**
 * How the commands that print values show them as text: as they are, or with {@code --hex} as the
 * hex of their bytes, which also shows a value another etcd client wrote that is not text.
 */
final class ValueFormat {

  @Option(
      names = "--hex",
      description = {
        "Print values as the hex of their bytes, as etcdctl --hex does, such as a value "
            + "another etcd client wrote that is not UTF-8 text."
      })
  boolean hex;

  /** The value as a line of text output shows it. */
  String of(KeyValue entry) {
    if (hex) {
      return HexFormat.of()
          .formatHex(
              entry.isText()
                  ? entry.value().getBytes(StandardCharsets.UTF_8)
                  : entry.binaryValue());
    }
    return entry.isText()
        ? entry.value()
        : "<not text: " + entry.binaryValue().length + " bytes; --hex shows it>";
  }
}
