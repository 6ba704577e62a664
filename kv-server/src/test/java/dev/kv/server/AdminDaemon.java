package dev.kv.server;

import dev.kv.api.KVGrpc;
import dev.kv.core.config.HostPort;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A kv-server process with its admin listener on a free loopback port, and clients of both. */
public final class AdminDaemon implements AutoCloseable {

  /** The start-up line: where kv.KV is served, and where the admin listener is. */
  private static final Pattern STARTED =
      Pattern.compile("listening on ([^\\s\"]+).*\\badmin\\W+http://([^\"\\s]+)");

  final DaemonProcess process;
  final ManagedChannel channel;
  final AdminClient admin;

  private AdminDaemon(DaemonProcess process, HostPort address, HostPort adminAddress) {
    this.process = process;
    this.channel =
        NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext().build();
    this.admin = new AdminClient(adminAddress);
  }

  static AdminDaemon start(String... storeOptions) throws Exception {
    String[] args = new String[storeOptions.length + 4];
    args[0] = "--listen";
    args[1] = "127.0.0.1:0";
    args[2] = "--admin-listen";
    args[3] = "127.0.0.1:0";
    System.arraycopy(storeOptions, 0, args, 4, storeOptions.length);
    DaemonProcess process = DaemonProcess.startMain(args);
    try {
      Matcher started = process.awaitLine(STARTED);
      return new AdminDaemon(
          process, HostPort.parse(started.group(1)), HostPort.parse(started.group(2)));
    } catch (Throwable e) {
      process.close();
      throw e;
    }
  }

  KVGrpc.KVBlockingStub kv() {
    return KVGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    process.close();
  }
}
