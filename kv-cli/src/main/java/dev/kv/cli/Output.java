package dev.kv.cli;

import com.google.gson.JsonObject;
import dev.kv.core.KeyValue;
import java.io.PrintWriter;
import java.util.Base64;

/** How commands print their results: for people ({@code text}) or scripts ({@code json}). */
enum Output {
  text,
  json;

  /** The {@code code} of a usage error, which has no store error code. */
  static final String USAGE_ERROR = "USAGE";

  /** The {@code code} of a conditional write that did not apply. */
  static final String CONDITION_FAILED = "CONDITION_FAILED";

  /** The {@code code} of a failure kv did not foresee. */
  static final String UNEXPECTED = "UNEXPECTED";

  /**
   * Reports a failure in one line on standard error, {@code kv: MESSAGE} or, for scripts, {@code
   * {"error":MESSAGE,"code":CODE,"exitCode":N}}; returns {@code exitCode}.
   */
  int failure(PrintWriter err, String message, String code, int exitCode) {
    if (this == json) {
      JsonObject object = new JsonObject();
      object.addProperty("error", message);
      object.addProperty("code", code);
      object.addProperty("exitCode", exitCode);
      print(err, object);
    } else {
      err.println("kv: " + message);
    }
    return exitCode;
  }

  /**
   * Warns in one line on standard error, {@code kv: warning: MESSAGE} or {@code
   * {"warning":MESSAGE}}.
   */
  void warning(PrintWriter err, String message) {
    if (this == json) {
      JsonObject object = new JsonObject();
      object.addProperty("warning", message);
      print(err, object);
    } else {
      err.println("kv: warning: " + message);
    }
  }

  /** Prints a JSON object on one line. */
  static void print(PrintWriter out, JsonObject object) {
    out.println(object.toString());
  }

  /** An entry as JSON, with the revisions etcd and the kv.KV API name. */
  static JsonObject entry(KeyValue entry) {
    return entry(entry, true);
  }

  /** An entry as JSON; without its value for a keys-only listing. */
  static JsonObject entry(KeyValue entry, boolean withValue) {
    JsonObject object = new JsonObject();
    object.addProperty("key", entry.key());
    if (withValue && entry.isText()) {
      object.addProperty("value", entry.value());
    } else if (withValue) {
      // A value another etcd client wrote that is not text: its bytes, unaltered.
      object.addProperty("valueBase64", Base64.getEncoder().encodeToString(entry.binaryValue()));
    }
    object.addProperty("createRevision", entry.createRevision());
    object.addProperty("modRevision", entry.modRevision());
    object.addProperty("version", entry.version());
    return object;
  }
}
