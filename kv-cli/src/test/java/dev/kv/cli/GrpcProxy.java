package dev.kv.cli;

import dev.kv.core.config.HostPort;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A real nginx on loopback that proxies gRPC as Envoy does in {@code envoy/envoy.yaml}: one
 * listener forwards to etcd the calls whose authority is {@code etcd} (any other authority gets
 * 404), the other spreads calls over several kv-servers. Debian's {@code nginx} package has it; the
 * binary is {@code /usr/sbin/nginx}, or {@code $NGINX_BINARY}. Fails, never skips, when it is
 * missing.
 */
final class GrpcProxy implements AutoCloseable {

  private final Process process;
  private final Path dir;
  private final HostPort etcdListener;
  private final HostPort kvListener;

  private GrpcProxy(Process process, Path dir, HostPort etcdListener, HostPort kvListener) {
    this.process = process;
    this.dir = dir;
    this.etcdListener = etcdListener;
    this.kvListener = kvListener;
  }

  /** Two free loopback ports for the listeners, chosen before the servers behind them start. */
  static List<HostPort> freeListeners() throws IOException {
    try (ServerSocket first = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ServerSocket second = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return List.of(
          new HostPort("127.0.0.1", first.getLocalPort()),
          new HostPort("127.0.0.1", second.getLocalPort()));
    }
  }

  /**
   * Starts nginx in {@code dir} on {@code listeners} (from {@link #freeListeners}): the first for
   * etcd at {@code etcd}, the second for the kv-servers at {@code kvServers}.
   */
  static GrpcProxy start(
      Path dir, List<HostPort> listeners, HostPort etcd, List<HostPort> kvServers)
      throws Exception {
    String binary = System.getenv().getOrDefault("NGINX_BINARY", "/usr/sbin/nginx");
    if (!Files.isExecutable(Path.of(binary))) {
      throw new IllegalStateException(
          "nginx is needed to test the proxy paths, and "
              + binary
              + " is missing: apt-get install nginx, or set NGINX_BINARY");
    }
    Files.createDirectories(dir.resolve("temp"));
    Files.writeString(dir.resolve("nginx.conf"), config(dir, listeners, etcd, kvServers));
    Process process =
        new ProcessBuilder(binary, "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("nginx.out").toFile())
            .start();
    GrpcProxy proxy = new GrpcProxy(process, dir, listeners.get(0), listeners.get(1));
    try {
      proxy.awaitListening();
    } catch (Exception e) {
      proxy.close();
      throw e;
    }
    return proxy;
  }

  private static String config(
      Path dir, List<HostPort> listeners, HostPort etcd, List<HostPort> kvServers) {
    String servers =
        kvServers.stream().map(server -> "server " + server + ";").collect(Collectors.joining(" "));
    return String.join(
        "\n",
        "daemon off;",
        // Honoured only when started as root; then the worker needs no other user's rights.
        "user " + System.getProperty("user.name") + ";",
        "worker_processes 1;",
        "pid " + dir.resolve("nginx.pid") + ";",
        "error_log " + dir.resolve("error.log") + " info;",
        "events { worker_connections 256; }",
        "http {",
        "  log_format upstreams '$host $request_uri $status $upstream_addr';",
        "  access_log " + dir.resolve("access.log") + " upstreams;",
        "  client_body_temp_path " + dir.resolve("temp/body") + ";",
        "  proxy_temp_path " + dir.resolve("temp/proxy") + ";",
        "  fastcgi_temp_path " + dir.resolve("temp/fastcgi") + ";",
        "  uwsgi_temp_path " + dir.resolve("temp/uwsgi") + ";",
        "  scgi_temp_path " + dir.resolve("temp/scgi") + ";",
        // Streams (watches) stay open, as with Envoy's route timeout 0.
        "  grpc_read_timeout 1h;",
        "  grpc_send_timeout 1h;",
        "  upstream etcd { server " + etcd + "; keepalive 8; }",
        "  upstream kv { " + servers + " keepalive 8; }",
        "  server { listen " + listeners.get(0) + " http2 default_server; return 404; }",
        "  server {",
        "    listen " + listeners.get(0) + " http2;",
        "    server_name etcd;",
        "    location / { grpc_pass grpc://etcd; }",
        "  }",
        "  server {",
        "    listen " + listeners.get(1) + " http2;",
        "    location / { grpc_pass grpc://kv; }",
        "  }",
        "}",
        "");
  }

  private void awaitListening() throws Exception {
    try {
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(20))
          .failFast(() -> !process.isAlive())
          .until(() -> answers(etcdListener) && answers(kvListener));
    } catch (ConditionTimeoutException e) {
      throw new IllegalStateException(
          "nginx did not start: " + Files.readString(dir.resolve("nginx.out")), e);
    }
  }

  private static boolean answers(HostPort listener) {
    try {
      new Socket(listener.host(), listener.port()).close();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The listener that forwards to etcd the calls with authority {@code etcd}. */
  HostPort etcdListener() {
    return etcdListener;
  }

  /** The listener in front of the kv-servers. */
  HostPort kvListener() {
    return kvListener;
  }

  /** The upstream address of each call nginx logged for {@code pathPrefix}, in order. */
  List<String> upstreamsOf(String pathPrefix) throws IOException {
    List<String> upstreams = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("access.log"))) {
      String[] fields = line.split(" ");
      if (fields.length == 4 && fields[1].startsWith(pathPrefix)) {
        upstreams.addAll(Arrays.asList(fields[3].split(", ")));
      }
    }
    return upstreams;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    new File(dir.toFile(), "nginx.pid").delete();
  }
}
