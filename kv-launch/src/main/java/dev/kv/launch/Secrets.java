package dev.kv.launch;

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

  /**
   * A secret from {@code file} if given, else from the environment variable {@code variable}; null
   * when neither holds one.
   *
   * @param option the option that names the file, for messages
   */
  public static String fromFileOrEnvironment(Path file, String option, String variable) {
    if (file != null) {
      return read(file, option);
    }
    String value = System.getenv(variable);
    return value == null || value.isEmpty() ? null : value;
  }

  /**
   * The password of {@code --etcd-user}, as both kv and kv-server take it: from {@code
   * --etcd-password-file} or {@code KV_ETCD_PASSWORD}; null without a user.
   *
   * @throws IllegalArgumentException for a user without a password, or a password file without a
   *     user
   */
  public static String etcdPassword(String user, Path passwordFile) {
    if (user == null) {
      if (passwordFile != null) {
        throw new IllegalArgumentException("--etcd-password-file needs --etcd-user");
      }
      return null;
    }
    String password =
        fromFileOrEnvironment(passwordFile, "--etcd-password-file", "KV_ETCD_PASSWORD");
    if (password == null) {
      throw new IllegalArgumentException(
          "--etcd-user needs a password: give --etcd-password-file FILE, or set KV_ETCD_PASSWORD");
    }
    return password;
  }
}
