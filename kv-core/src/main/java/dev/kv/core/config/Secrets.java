package dev.kv.core.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads secrets, such as passwords and tokens, from files: a secret never goes on a command line,
 * where other users of the machine can read it, and no message ever quotes one.
 */
public final class Secrets {

  private Secrets() {}

  /**
   * The secret in {@code file}: its content, less one final line break, as editors add.
   *
   * @param what how messages name the file, such as "--etcd-password-file"
   * @throws IllegalArgumentException when the file cannot be read or is empty
   */
  public static String read(Path file, String what) {
    String secret;
    try {
      secret = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("cannot read " + what + " " + file + ": no such file");
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read " + what + " " + file + ": " + e.getMessage());
    }
    if (secret.endsWith("\n")) {
      secret = secret.substring(0, secret.length() - (secret.endsWith("\r\n") ? 2 : 1));
    }
    if (secret.isEmpty()) {
      throw new IllegalArgumentException(what + " " + file + " is empty");
    }
    return secret;
  }
}
