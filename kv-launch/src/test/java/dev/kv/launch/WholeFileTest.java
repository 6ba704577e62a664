package dev.kv.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WholeFileTest {

  @TempDir Path dir;

  @Test
  void write_givesTheFileItsNameOnceWhole_replacingAnOldOne() throws Exception {
    Path file = dir.resolve("backup");
    Files.writeString(file, "old");

    int written = WholeFile.write(file, out -> write(out, "new contents"));

    assertThat(written).isEqualTo(12);
    assertThat(file).hasContent("new contents");
    assertThat(dir.resolve("backup.part")).doesNotExist();
  }

  @Test
  void write_thatFails_leavesNoFileOfThatName_andNoPart() {
    Path file = dir.resolve("backup");

    assertThatThrownBy(
            () ->
                WholeFile.write(
                    file,
                    out -> {
                      write(out, "half");
                      throw new IOException("the store went away");
                    }))
        .hasMessage("the store went away");

    assertThat(file).doesNotExist();
    assertThat(dir.resolve("backup.part")).doesNotExist();
  }

  @Test
  void checkThatFails_leavesNoFileOfThatName_andNoPart() {
    Path file = dir.resolve("backup");

    assertThatThrownBy(
            () ->
                WholeFile.write(
                    file,
                    out -> write(out, "damaged"),
                    (written, result) -> {
                      assertThat(written).hasContent("damaged");
                      throw new IOException("not whole");
                    }))
        .hasMessage("not whole");

    assertThat(file).doesNotExist();
    assertThat(dir.resolve("backup.part")).doesNotExist();
  }

  private static int write(java.io.OutputStream out, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    out.write(bytes);
    return bytes.length;
  }
}
