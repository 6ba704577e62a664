package dev.kv.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.jul.LevelChangePropagator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * The daemon's log output, all of it configured here: one line per record on standard error, as
 * text or as JSON, with java.util.logging (kv-core's and gRPC's) bridged in.
 */
final class Logging {

  /** Text lines: the record's fields follow its message as {@code key="value"}. */
  static final String TEXT_PATTERN =
      "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level %logger: %msg%replace( %kvp){'^ $', ''}%n%ex";

  /** gRPC's frame loggers, on the server and on the client to etcd. */
  static final String[] FRAME_LOGGERS = {
    "io.grpc.netty.NettyServerHandler", "io.grpc.netty.NettyClientHandler"
  };

  private Logging() {}

  /** Replaces whatever logging the process had; call before the first record that matters. */
  static void configure(LogFormat format, Level level) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    // Keeps java.util.logging's levels in step with these, so that a disabled level costs kv-core
    // and gRPC no record and no trip through the bridge.
    LevelChangePropagator levels = new LevelChangePropagator();
    levels.setContext(context);
    levels.setResetJUL(true);
    levels.start();
    context.addListener(levels);
    context.addTurboFilter(new TransportNoise());

    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName("console");
    console.setTarget("System.err");
    console.setEncoder(encoder(context, format));
    console.start();

    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(level);
    root.addAppender(console);
    // gRPC's HTTP/2 frame loggers write every header, authorization included, and every message
    // at debug level: never below info, so that no level writes tokens, passwords or values.
    for (String frames : FRAME_LOGGERS) {
      context.getLogger(frames).setLevel(level.isGreaterOrEqual(Level.INFO) ? level : Level.INFO);
    }

    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
  }

  private static Encoder<ILoggingEvent> encoder(LoggerContext context, LogFormat format) {
    return switch (format) {
      case text -> {
        PatternLayoutEncoder text = new PatternLayoutEncoder();
        text.setContext(context);
        text.setPattern(TEXT_PATTERN);
        text.start();
        yield text;
      }
      case json -> {
        JsonLines layout = new JsonLines();
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> json = new LayoutWrappingEncoder<>();
        json.setContext(context);
        json.setLayout(layout);
        json.start();
        yield json;
      }
    };
  }
}
