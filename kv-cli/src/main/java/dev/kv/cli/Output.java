package dev.kv.cli;

import com.google.gson.JsonObject;
import dev.kv.core.KeyValue;
import java.io.PrintWriter;
import java.util.Base64;

/** How commands print their results: for people ({@code text}) or scripts ({@code json}). */
enum Output {
  text,
  json;

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
