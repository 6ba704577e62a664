package dev.kv.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.kv.core.config.HostPort;
import dev.kv.core.local.Threads;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * kv-server's admin HTTP listener, for Prometheus and for Kubernetes probes: {@code /metrics} in
 * the Prometheus text format, or OpenMetrics when the scraper's Accept header asks for it; {@code
 * /healthz}, 200 while the process answers; {@code /readyz}, 200 while the server's health is
 * {@code SERVING} (its store answers), 503 otherwise.
 *
 * <p>The JDK's own HTTP server, on one thread of its own: scrapes and probes come a few times a
 * minute, and never hold up the gRPC calls.
 */
final class AdminListener implements AutoCloseable {

  static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";
  private static final String PLAIN = "text/plain; charset=utf-8";
  static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

  private final HttpServer http;
  private final ExecutorService thread;

  private AdminListener(HttpServer http, ExecutorService thread) {
    this.http = http;
    this.thread = thread;
  }

  /**
   * Listens on {@code address}.
   *
   * @param ready whether the server is ready, as its gRPC health service says
   * @throws IOException when the address cannot be bound, for example because it is in use
   */
  static AdminListener start(
      HostPort address, PrometheusMeterRegistry metrics, BooleanSupplier ready) throws IOException {
    HttpServer http = HttpServer.create(address.toSocketAddress(), 0);
    route(
        http,
        "/metrics",
        exchange -> {
          String contentType = contentType(exchange.getRequestHeaders().getFirst("Accept"));
          answer(exchange, 200, contentType, metrics.scrape(contentType));
        });
    route(http, "/healthz", exchange -> answer(exchange, 200, PLAIN, "ok\n"));
    route(
        http,
        "/readyz",
        exchange -> {
          boolean isReady = ready.getAsBoolean();
          answer(exchange, isReady ? 200 : 503, PLAIN, isReady ? "ready\n" : "not ready\n");
        });
    ExecutorService thread = Executors.newSingleThreadExecutor(Threads.daemon("kv-server-admin"));
    http.setExecutor(thread);
    http.start();
    return new AdminListener(http, thread);
  }

  /** Answers {@code path} alone, not every path it begins, as the JDK's contexts would. */
  private static void route(HttpServer http, String path, HttpHandler handler) {
    http.createContext(
        path,
        exchange -> {
          if (exchange.getRequestURI().getPath().equals(path)) {
            handler.handle(exchange);
          } else {
            answer(exchange, 404, PLAIN, "not found\n");
          }
        });
  }

  /**
   * OpenMetrics when the scraper accepts it, as Prometheus does; the Prometheus text format
   * otherwise. Chosen here rather than by the registry, which would answer protobuf to a scraper
   * that prefers it, under a Content-Type that must say so.
   */
  private static String contentType(String accept) {
    return accept != null && accept.contains("application/openmetrics-text") ? OPEN_METRICS : TEXT;
  }

  private static void answer(HttpExchange exchange, int status, String contentType, String body)
      throws IOException {
    byte[] bytes =
        "HEAD".equals(exchange.getRequestMethod())
            ? new byte[0]
            : body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** The address it listens on, in the form clients connect to. */
  HostPort address() {
    InetSocketAddress bound = http.getAddress();
    return new HostPort(bound.getAddress().getHostAddress(), bound.getPort());
  }

  @Override
  public void close() {
    http.stop(0);
    thread.shutdownNow();
  }
}
