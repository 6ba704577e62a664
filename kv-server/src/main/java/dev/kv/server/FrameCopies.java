package dev.kv.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameTypes;
import io.netty.handler.ssl.SslHandler;
import java.util.List;

/**
 * Hands gRPC's transport each HTTP/2 frame that a connection receives in a buffer of its own, so
 * that the unfinished request messages the transport holds take the memory that {@link
 * BytesInProgress} counts, not several times as much.
 *
 * <p>grpc-java keeps a message that has not yet arrived whole as slices of the buffers the
 * connection read it into, and a slice keeps its whole buffer: 64 KiB or more of a pool shared by
 * every connection, holding parts of other streams (those refused included), until the message
 * ends. Slow unfinished messages within their budget of 4 MiB so held 60 MiB of the 64 MiB of
 * direct memory that bin/kv-server has (measured), and ran it out on a loaded machine. Copied frame
 * by frame, a message holds its own frames and no more. Only DATA frames, which carry messages, are
 * copied: the transport has read every other frame before the read it came in ends.
 *
 * <p>First in a connection's pipeline, or right after its TLS handler, where it reads what the
 * client sent: the connection preface, then frames, each a 9-byte header that gives its length.
 * Past a frame longer than the transport takes, it passes everything on as it comes, for the
 * transport to refuse.
 */
final class FrameCopies extends ByteToMessageDecoder {

  /** "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */
  private static final int PREFACE_BYTES = 24;

  /** Where a frame's header gives its type: after its 3-byte length. */
  private static final int FRAME_TYPE_OFFSET = 3;

  private boolean placed;
  private int prefaceLeft = PREFACE_BYTES;
  private boolean passingOn;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object message) throws Exception {
    if (!placed) {
      placed = true;
      ChannelHandlerContext tls = ctx.pipeline().context(SslHandler.class);
      if (tls != null) {
        // Frames come out of TLS: what reaches this place is encrypted.
        FrameCopies afterTls = new FrameCopies();
        afterTls.placed = true;
        ctx.pipeline().addAfter(tls.name(), null, afterTls).remove(this);
        ctx.fireChannelRead(message);
        return;
      }
    }
    super.channelRead(ctx, message);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    // Frames other than DATA go on as they are, those in a row as one: the transport is done with
    // them before this read ends (a header block that spans frames, it copies).
    int uncopied = 0;
    while (in.readableBytes() > uncopied) {
      int start = in.readerIndex() + uncopied;
      int readable = in.readableBytes() - uncopied;
      int length;
      if (passingOn) {
        length = readable;
      } else if (prefaceLeft > 0) {
        length = Math.min(prefaceLeft, readable);
        prefaceLeft -= length;
      } else if (readable < Http2CodecUtil.FRAME_HEADER_LENGTH) {
        break;
      } else {
        length = Http2CodecUtil.FRAME_HEADER_LENGTH + in.getUnsignedMedium(start);
        if (length > Http2CodecUtil.FRAME_HEADER_LENGTH + Http2CodecUtil.DEFAULT_MAX_FRAME_SIZE) {
          passingOn = true;
          continue;
        }
        if (readable < length) {
          break;
        }
        if (in.getByte(start + FRAME_TYPE_OFFSET) != Http2FrameTypes.DATA) {
          uncopied += length;
          continue;
        }
      }
      passOn(in, uncopied, out);
      uncopied = 0;
      out.add(ctx.alloc().buffer(length).writeBytes(in, length));
    }
    passOn(in, uncopied, out);
  }

  private static void passOn(ByteBuf in, int length, List<Object> out) {
    if (length > 0) {
      out.add(in.readRetainedSlice(length));
    }
  }
}
