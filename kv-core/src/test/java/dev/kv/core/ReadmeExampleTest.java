package dev.kv.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedding example in README.md compiles against kv-core and does what it says. */
class ReadmeExampleTest {

  private static final Pattern EXAMPLE =
      Pattern.compile(
          "ReadmeExampleTest compiles and runs the example below. -->\\s*```java\\n(.*?)```",
          Pattern.DOTALL);

  @Test
  void embeddingExample_compilesAndRuns(@TempDir Path work) throws Exception {
    String readme =
        Files.readString(
            Path.of(System.getProperty("kv.root"), "README.md"), StandardCharsets.UTF_8);
    Matcher example = EXAMPLE.matcher(readme);
    assertThat(example.find()).as("README.md has the embedding example").isTrue();
    String source = example.group(1);
    Matcher className = Pattern.compile("public class (\\w+)").matcher(source);
    assertThat(className.find()).isTrue();
    Path file = work.resolve(className.group(1) + ".java");
    Files.writeString(file, source);

    JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    StringWriter diagnostics = new StringWriter();
    boolean compiled =
        compiler
            .getTask(
                diagnostics,
                null,
                null,
                List.of(
                    "-classpath",
                    Applications.path(Applications.kvCoreAndItsDependencies()),
                    "-d",
                    work.toString()),
                null,
                compiler.getStandardFileManager(null, null, null).getJavaFileObjects(file))
            .call();
    assertThat(compiled).as("compiles: %s", diagnostics).isTrue();

    assertThat(run(work, className.group(1))).isEqualTo("hello\nhello again\n");
  }

  private static String run(Path classes, String className) throws Exception {
    PrintStream original = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    try (URLClassLoader loader =
        new URLClassLoader(
            new URL[] {classes.toUri().toURL()}, ReadmeExampleTest.class.getClassLoader())) {
      System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
      loader
          .loadClass(className)
          .getMethod("main", String[].class)
          .invoke(null, (Object) new String[0]);
    } finally {
      System.setOut(original);
    }
    return printed.toString(StandardCharsets.UTF_8);
  }
}
