package dev.kv.server;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.temporal.ChronoUnit;
import org.slf4j.event.KeyValuePair;

/**
 * A log record as one JSON object on one line: {@code time}, {@code level}, {@code logger}, {@code
 * message}, then the record's key-value pairs as fields of their own, and {@code error} with the
 * stack trace when there is one. Logback's JsonEncoder nests the pairs in a list of one-entry
 * objects, which log collectors do not index as fields.
 */
final class JsonLines extends LayoutBase<ILoggingEvent> {

  @Override
  public String doLayout(ILoggingEvent event) {
    StringWriter line = new StringWriter(256);
    try (JsonWriter json = new JsonWriter(line)) {
      json.beginObject();
      json.name("time").value(event.getInstant().truncatedTo(ChronoUnit.MILLIS).toString());
      json.name("level").value(event.getLevel().toString());
      json.name("logger").value(event.getLoggerName());
      json.name("message").value(event.getFormattedMessage());
      if (event.getKeyValuePairs() != null) {
        for (KeyValuePair pair : event.getKeyValuePairs()) {
          json.name(pair.key);
          if (pair.value instanceof Number number) {
            json.value(number);
          } else if (pair.value instanceof Boolean bool) {
            json.value(bool);
          } else {
            json.value(String.valueOf(pair.value));
          }
        }
      }
      IThrowableProxy error = event.getThrowableProxy();
      if (error != null) {
        json.name("error").value(ThrowableProxyUtil.asString(error));
      }
      json.endObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return line.append(CoreConstants.LINE_SEPARATOR).toString();
  }
}
