package dev.kv.core.grpc;

import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One network thread of a channel's own, in place of gRPC's shared ones, which gRPC ends only a
 * second after its last channel closes: a JVM that exits meanwhile waits some 300 ms for them, as
 * it does for every thread in native code, where a selector waits. {@link #close} ends this one at
 * once.
 */
public final class NetworkThread {

  private final EventLoopGroup loop;

  /** A daemon thread named {@code name}. */
  public NetworkThread(String name) {
    this.loop =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory(name, true), NioIoHandler.newFactory());
  }

  /** {@code channel}, its connections served by this thread. */
  public NettyChannelBuilder serve(NettyChannelBuilder channel) {
    return channel.eventLoopGroup(loop).channelType(NioSocketChannel.class);
  }

  /**
   * Ends the thread, waiting up to {@code grace} for it. Call it once the channel has terminated:
   * the tasks that the channel's close left behind, such as releasing its buffers, still run first.
   */
  public void close(Duration grace) {
    loop.shutdownGracefully(0, grace.toMillis(), TimeUnit.MILLISECONDS)
        .awaitUninterruptibly(grace.toMillis());
  }
}
