package dev.kv.server;

/** How {@code kv-server} writes its log, as {@code --log-format} names it. */
enum LogFormat {
  /** A line of text per record, for people. */
  text,
  /** A JSON object per line, for log collectors. */
  json
}
