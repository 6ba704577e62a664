package dev.kv.core.etcd;

import com.google.protobuf.ByteString;
import dev.kv.core.Executables;
import dev.kv.core.config.HostPort;
import dev.kv.core.tls.Certificates;
import dev.kv.etcd.api.etcdserverpb.AuthGrpc;
import dev.kv.etcd.api.etcdserverpb.AuthenticateRequest;
import dev.kv.etcd.api.etcdserverpb.DeleteRangeRequest;
import dev.kv.etcd.api.etcdserverpb.KVGrpc;
import dev.kv.etcd.api.etcdserverpb.MaintenanceGrpc;
import dev.kv.etcd.api.etcdserverpb.RangeRequest;
import dev.kv.etcd.api.etcdserverpb.StatusRequest;
import dev.kv.etcd.api.etcdserverpb.StatusResponse;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Real etcd members, each an {@code etcd} process on free loopback ports with a data directory of
 * its own, removed afterwards. As a JUnit extension ({@code @RegisterExtension static}), the
 * cluster runs for the test class; {@link #start} and {@link #close} serve tests that want one of
 * their own.
 *
 * <p>Optionally the members serve clients over TLS and demand a client certificate ({@link
 * #withTls}), and require users to authenticate ({@link #withAuth}); the cluster's own calls then
 * present the client certificate and authenticate as {@code root}.
 *
 * <p>Uses {@code etcd} from {@code $ETCD_BINARY}, {@code /usr/bin/etcd} (Debian's {@code
 * etcd-server}) or the {@code PATH}. Without it, the tests fail: they never skip.
 */
public final class EtcdCluster implements BeforeAllCallback, AfterAllCallback, AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final ByteString ALL_KEYS = ByteString.copyFrom(new byte[] {0});
  private static final String ROOT = "root";
  private static final Metadata.Key<String> TOKEN =
      Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER);

  private final int size;
  private final List<Member> members = new ArrayList<>();
  private Path directory;
  private Certificates tls;
  private String rootPassword;
  private Duration tokenTtl;
  private long quotaBytes;
  private Path snapshot;

  /** Whether etcd checks authentication yet: only once {@code root} exists and enabled it. */
  private volatile boolean authEnabled;

  private EtcdCluster(int size) {
    this.size = size;
  }

  /** A cluster of {@code size} members, started by the extension or by {@link #start}. */
  public static EtcdCluster ofMembers(int size) {
    return new EtcdCluster(size);
  }

  /**
   * Members serve clients over TLS, with {@code certificates}' server certificate, and accept only
   * clients with a certificate from its CA; {@link #endpoints} are then {@code https://}. Peers
   * still talk plaintext to each other. Called before the cluster starts.
   */
  public EtcdCluster withTls(Certificates certificates) {
    requireNotStarted();
    this.tls = certificates;
    return this;
  }

  /**
   * Members require authentication: once the cluster serves, user {@code root} with {@code
   * rootPassword} (and role {@code root}) is created and authentication enabled. Tokens are etcd's
   * simple tokens, which expire {@code tokenTtl} (whole seconds) after their last use. Called
   * before the cluster starts.
   */
  public EtcdCluster withAuth(String rootPassword, Duration tokenTtl) {
    requireNotStarted();
    if (rootPassword == null || rootPassword.isEmpty()) {
      throw new IllegalArgumentException("the root password must not be empty");
    }
    if (tokenTtl.toSeconds() < 1) {
      throw new IllegalArgumentException("etcd counts token lifetimes in whole seconds");
    }
    this.rootPassword = rootPassword;
    this.tokenTtl = tokenTtl;
    return this;
  }

  /**
   * Members refuse writes once their database reaches {@code bytes} ({@code
   * --quota-backend-bytes}), raising etcd's {@code NOSPACE} alarm, as a full cluster does. Called
   * before the cluster starts.
   */
  public EtcdCluster withQuota(long bytes) {
    requireNotStarted();
    this.quotaBytes = bytes;
    return this;
  }

  /**
   * The one member starts from {@code snapshot}, restored by {@code etcdctl snapshot restore}
   * (which refuses a file whose checksum does not match), as etcd's disaster recovery does. Called
   * before the cluster starts.
   */
  public EtcdCluster restoredFrom(Path snapshot) {
    requireNotStarted();
    if (size != 1) {
      throw new IllegalStateException("a snapshot restores a cluster of one member here");
    }
    this.snapshot = snapshot;
    return this;
  }

  /** The password of user {@code root}, or {@code null} without {@link #withAuth}. */
  public String rootPassword() {
    return rootPassword;
  }

  private void requireNotStarted() {
    if (directory != null) {
      throw new IllegalStateException("configure the cluster before it starts");
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  /**
   * Starts every member and waits until the cluster answers linearizable reads. A member that could
   * not bind its ports (taken between choosing and binding them) gets new ones.
   */
  public EtcdCluster start() throws Exception {
    String etcd = binary();
    Runtime.getRuntime().addShutdownHook(cleanup);
    for (int attempt = 1; ; attempt++) {
      try {
        launch(etcd);
        return this;
      } catch (Exception e) {
        stopAll();
        if (attempt == 3) {
          close();
          throw e;
        }
      }
    }
  }

  private void launch(String etcd) throws Exception {
    directory = Files.createTempDirectory("kv-etcd-");
    List<Integer> ports = freePorts(2 * size);
    ChannelCredentials credentials =
        tls == null
            ? InsecureChannelCredentials.create()
            : TlsChannelCredentials.newBuilder()
                .trustManager(tls.caCert().toFile())
                .keyManager(tls.clientCert().toFile(), tls.clientKey().toFile())
                .build();
    StringBuilder initialCluster = new StringBuilder();
    for (int i = 0; i < size; i++) {
      members.add(new Member("m" + i, ports.get(2 * i), ports.get(2 * i + 1), credentials));
      initialCluster.append(i == 0 ? "" : ",").append("m" + i + "=" + members.get(i).peerUrl());
    }
    String token = "kv-test-" + UUID.randomUUID();
    for (Member member : members) {
      member.command =
          new ArrayList<>(
              List.of(
                  etcd,
                  "--name",
                  member.name,
                  "--data-dir",
                  directory.resolve(member.name).toString(),
                  "--listen-client-urls",
                  member.clientUrl(),
                  "--advertise-client-urls",
                  member.clientUrl(),
                  "--listen-peer-urls",
                  member.peerUrl(),
                  "--initial-advertise-peer-urls",
                  member.peerUrl(),
                  "--initial-cluster",
                  initialCluster.toString(),
                  "--initial-cluster-state",
                  "new",
                  "--initial-cluster-token",
                  token));
      if (tls != null) {
        member.command.addAll(
            List.of(
                "--cert-file",
                tls.serverCert().toString(),
                "--key-file",
                tls.serverKey().toString(),
                "--trusted-ca-file",
                tls.caCert().toString(),
                "--client-cert-auth"));
      }
      if (quotaBytes > 0) {
        member.command.addAll(List.of("--quota-backend-bytes", "" + quotaBytes));
      }
      if (rootPassword != null) {
        member.command.addAll(
            List.of("--auth-token", "simple", "--auth-token-ttl", "" + tokenTtl.toSeconds()));
      }
      if (snapshot != null) {
        run(
            List.of(
                "etcdctl",
                "snapshot",
                "restore",
                snapshot.toString(),
                "--data-dir",
                directory.resolve(member.name).toString(),
                "--name",
                member.name,
                "--initial-cluster",
                initialCluster.toString(),
                "--initial-advertise-peer-urls",
                member.peerUrl(),
                "--initial-cluster-token",
                token),
            "snapshot restore");
      }
      member.launch(directory);
    }
    for (Member member : members) {
      member.awaitServing();
    }
    if (rootPassword != null) {
      etcdctl("user", "add", ROOT, "--new-user-password=" + rootPassword, "--interactive=false");
      etcdctl("role", "add", ROOT);
      etcdctl("user", "grant-role", ROOT, ROOT);
      etcdctl("auth", "enable");
      authEnabled = true;
    }
  }

  /**
   * Adds user {@code name} with {@code password}, and a role of the same name that may read and
   * write the keys that start with {@code keyPrefix}, granted to the user. Needs {@link #withAuth}.
   */
  public void addUser(String name, String password, String keyPrefix) throws Exception {
    if (rootPassword == null) {
      throw new IllegalStateException("users need a cluster with authentication: withAuth");
    }
    etcdctl("user", "add", name, "--new-user-password=" + password, "--interactive=false");
    etcdctl("role", "add", name);
    etcdctl("role", "grant-permission", name, "readwrite", keyPrefix, "--prefix=true");
    etcdctl("user", "grant-role", name, name);
  }

  /** Every member's client URL. */
  public EtcdEndpoints endpoints() {
    return new EtcdEndpoints(members.stream().map(Member::address).toList(), tls != null);
  }

  /** One member's client URL. */
  public EtcdEndpoints endpoint(int member) {
    return new EtcdEndpoints(List.of(members.get(member).address()), tls != null);
  }

  /** Stops a member with SIGTERM, as an operator would, and waits until it has exited. */
  public void stop(int member) throws InterruptedException {
    members.get(member).stop();
  }

  /** Kills a member with SIGKILL, as a crash would: no goodbye to the cluster or the clients. */
  public void kill(int member) throws InterruptedException {
    members.get(member).kill();
  }

  /** Starts a stopped member again, on its ports and data, and waits until it serves. */
  public void restart(int member) throws Exception {
    Member restarted = members.get(member);
    restarted.launch(directory);
    restarted.awaitServing();
  }

  /** The index of the member that leads the cluster, asked of a running member. */
  public int leader() {
    for (Member asked : members) {
      if (asked.isRunning()) {
        StatusResponse status = asked.status();
        for (int i = 0; i < members.size(); i++) {
          if (members.get(i).isRunning()
              && members.get(i).status().getHeader().getMemberId() == status.getLeader()) {
            return i;
          }
        }
      }
    }
    throw new IllegalStateException("no running member knows a leader");
  }

  /** Deletes every key, so that each test starts from an empty store. */
  public void deleteAllKeys() {
    for (Member member : members) {
      if (member.isRunning()) {
        member
            .authorized(KVGrpc.newBlockingStub(member.channel))
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .deleteRange(
                DeleteRangeRequest.newBuilder().setKey(ALL_KEYS).setRangeEnd(ALL_KEYS).build());
        return;
      }
    }
    throw new IllegalStateException("no etcd member is running");
  }

  /**
   * Runs etcd's own client, {@code etcdctl} (Debian's {@code etcd-client}), against this cluster
   * and returns what it printed on standard output, failing on a non-zero exit. With {@link
   * #withTls} it presents the client certificate; with {@link #withAuth} it acts as {@code root}.
   */
  public byte[] etcdctl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("etcdctl"));
    command.addAll(etcdctlOptions());
    command.addAll(List.of(args));
    return run(command, String.join(" ", args));
  }

  /**
   * Writes {@code value} under {@code key} with {@code etcdctl put}, as another program sharing
   * etcd may: any bytes, such as ones that are not UTF-8 text. A shell's {@code printf} makes them,
   * since a process's arguments are text to Java.
   */
  public void etcdctlPut(byte[] key, byte[] value) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                "sh",
                "-c",
                "printf '"
                    + octal(value)
                    + "' | etcdctl \"$@\" put \"$(printf '"
                    + octal(key)
                    + "')\"",
                "sh"));
    command.addAll(etcdctlOptions());
    run(command, "put of " + key.length + " key bytes");
  }

  /** Bytes as printf's octal escapes, which every shell's printf reads. */
  private static String octal(byte[] bytes) {
    StringBuilder escaped = new StringBuilder();
    for (byte b : bytes) {
      escaped.append(String.format("\\%03o", b & 0xff));
    }
    return escaped.toString();
  }

  private List<String> etcdctlOptions() {
    List<String> options = new ArrayList<>(List.of("--endpoints=" + endpoints()));
    if (tls != null) {
      options.addAll(
          List.of(
              "--cacert=" + tls.caCert(),
              "--cert=" + tls.clientCert(),
              "--key=" + tls.clientKey()));
    }
    if (authEnabled) {
      options.addAll(List.of("--user=" + ROOT, "--password=" + rootPassword));
    }
    return options;
  }

  private static byte[] run(List<String> command, String what) throws Exception {
    Path errors = Files.createTempFile("etcdctl-", ".err");
    try {
      ProcessBuilder builder =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.to(errors.toFile()));
      builder.environment().put("ETCDCTL_API", "3");
      Process process = builder.start();
      process.getOutputStream().close();
      // etcdctl prints little: reading it all before waiting cannot fill a pipe.
      byte[] out = process.getInputStream().readAllBytes();
      if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
        process.destroyForcibly();
        throw new IllegalStateException("etcdctl " + what + " failed: " + Files.readString(errors));
      }
      return out;
    } finally {
      Files.deleteIfExists(errors);
    }
  }

  /** Stops every member and removes their data. */
  @Override
  public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(cleanup);
    } catch (IllegalStateException | IllegalArgumentException e) {
      // Already shutting down, or never started: the hook has nothing left to do.
    }
  }

  /** Kills every member and removes the data, also when the test JVM is stopped. */
  private final Thread cleanup = new Thread(this::stopAll, "etcd-cluster-cleanup");

  private synchronized void stopAll() {
    for (Member member : members) {
      member.destroy();
    }
    members.clear();
    authEnabled = false;
    if (directory != null) {
      try (Stream<Path> files = Files.walk(directory)) {
        files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      } catch (IOException e) {
        // The temporary directory is left behind; nothing else depends on it.
      }
      directory = null;
    }
  }

  private static String binary() {
    return Executables.find("etcd", "ETCD_BINARY", "apt-get install etcd-server");
  }

  private static List<Integer> freePorts(int count) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        sockets.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
      }
      return sockets.stream().map(ServerSocket::getLocalPort).toList();
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }

  /** One etcd process, and a channel to it for the cluster's own checks. */
  private final class Member {
    final String name;
    final int clientPort;
    final int peerPort;
    final ManagedChannel channel;
    List<String> command;
    Process process;
    Path log;

    Member(String name, int clientPort, int peerPort, ChannelCredentials credentials) {
      this.name = name;
      this.clientPort = clientPort;
      this.peerPort = peerPort;
      this.channel = NettyChannelBuilder.forAddress("127.0.0.1", clientPort, credentials).build();
    }

    HostPort address() {
      return new HostPort("127.0.0.1", clientPort);
    }

    String clientUrl() {
      return (tls == null ? "http" : "https") + "://127.0.0.1:" + clientPort;
    }

    String peerUrl() {
      return "http://127.0.0.1:" + peerPort;
    }

    boolean isRunning() {
      return process != null && process.isAlive();
    }

    void launch(Path directory) throws IOException {
      log = directory.resolve(name + ".log");
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
    }

    /** Waits until this member answers a linearizable read, which needs a leader. */
    void awaitServing() throws Exception {
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      Exception last = null;
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IllegalStateException(
              "etcd member " + name + " exited with " + process.exitValue() + ":\n" + logTail());
        }
        try {
          authorized(KVGrpc.newBlockingStub(channel))
              .withDeadlineAfter(1, TimeUnit.SECONDS)
              .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("health")).build());
          return;
        } catch (RuntimeException e) {
          last = e;
          channel.resetConnectBackoff();
          Thread.sleep(100);
        }
      }
      throw new IllegalStateException(
          "etcd member " + name + " did not serve within " + START_TIMEOUT + ":\n" + logTail(),
          last);
    }

    StatusResponse status() {
      return authorized(MaintenanceGrpc.newBlockingStub(channel))
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .status(StatusRequest.getDefaultInstance());
    }

    /**
     * The stub as {@code root}, with a token asked for just now, once authentication is on: etcd's
     * simple tokens expire soon, and are lost when the member that issued them restarts.
     */
    <S extends AbstractStub<S>> S authorized(S stub) {
      if (!authEnabled) {
        return stub;
      }
      String token =
          AuthGrpc.newBlockingStub(channel)
              .withDeadlineAfter(5, TimeUnit.SECONDS)
              .authenticate(
                  AuthenticateRequest.newBuilder().setName(ROOT).setPassword(rootPassword).build())
              .getToken();
      Metadata headers = new Metadata();
      headers.put(TOKEN, token);
      return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    void stop() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }

    void kill() throws InterruptedException {
      process.destroyForcibly().waitFor();
    }

    void destroy() {
      channel.shutdownNow();
      if (process != null) {
        process.destroyForcibly();
        try {
          process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    private String logTail() {
      try {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
      } catch (IOException e) {
        return "(no log: " + e + ")";
      }
    }
  }
}
