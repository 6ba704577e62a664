package dev.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.handler.codec.http2.Http2Exception;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TransportNoiseTest {

  private final AtomicLong now = new AtomicLong();
  private final LoggerContext context = new LoggerContext();
  private final ListAppender<ILoggingEvent> written = new ListAppender<>();
  private final Logger transport = context.getLogger("io.grpc.netty.NettyServerHandler");

  @BeforeEach
  void logToAList() {
    context.addTurboFilter(new TransportNoise(now::get));
    written.setContext(context);
    written.start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(written);
  }

  @Test
  void aTransportWarningWithAStackTrace_becomesOneLine() {
    transport.warn("Stream Error", framingError());

    assertThat(written.list).hasSize(1);
    ILoggingEvent line = written.list.get(0);
    assertThat(line.getThrowableProxy()).isNull();
    assertThat(line.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
    assertThat(line.getLoggerName()).isEqualTo("io.grpc.netty.NettyServerHandler");
    assertThat(line.getFormattedMessage())
        .isEqualTo("Stream Error: Http2Exception: frame of 70000 bytes exceeds the limit");
  }

  @Test
  void atMostTenAMinute_thenSaysHowManyWereLeftOut() {
    for (int i = 0; i < 50; i++) {
      transport.warn("Stream Error", framingError());
    }
    assertThat(written.list).hasSize(TransportNoise.PER_MINUTE);

    now.addAndGet(Duration.ofMinutes(1).toNanos());
    transport.warn("Stream Error", framingError());

    assertThat(written.list).hasSize(TransportNoise.PER_MINUTE + 1);
    assertThat(written.list.get(TransportNoise.PER_MINUTE).getFormattedMessage())
        .endsWith("(40 more like it in the last minute, not shown)");
  }

  @Test
  void otherLoggers_andTransportLinesWithoutATrace_areLeftAlone() {
    Logger ours = context.getLogger("dev.kv.server.KvService");
    Exception error = framingError();
    ours.warn("a store failure", error);
    for (int i = 0; i < 20; i++) {
      transport.info("connection closed");
    }

    assertThat(written.list).hasSize(21);
    assertThat(written.list.get(0).getThrowableProxy()).isNotNull();
  }

  private static Exception framingError() {
    return new RuntimeException(
        "while reading",
        Http2Exception.connectionError(
            io.netty.handler.codec.http2.Http2Error.FRAME_SIZE_ERROR,
            "frame of 70000 bytes exceeds the limit"));
  }
}
