package dev.kv.core.remote;

import dev.kv.api.SnapshotChunk;
import dev.kv.core.KvException;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.grpc.SnapshotDownload;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A snapshot as kv.KV/Snapshot streams it: chunks of the file, then a last message that says what
 * the file is. A stream that ends without that message, or whose size does not match it, is not a
 * whole snapshot.
 */
final class RemoteSnapshot implements SnapshotDownload.Reader<SnapshotChunk> {

  private final String peer;
  private long bytes;
  private SnapshotInfo last;

  RemoteSnapshot(String peer) {
    this.peer = peer;
  }

  @Override
  public void write(SnapshotChunk chunk, OutputStream out) throws IOException {
    if (last != null) {
      throw new KvException(
          KvException.Code.INTERNAL, peer + " sent more of the snapshot after its end");
    }
    if (chunk.getFormat().isEmpty()) {
      chunk.getData().writeTo(out);
      bytes += chunk.getData().size();
      return;
    }
    last = new SnapshotInfo(chunk.getFormat(), chunk.getRevision(), chunk.getSize());
    if (last.bytes() != bytes) {
      throw new KvException(
          KvException.Code.DATA_LOSS,
          peer + " sent " + bytes + " bytes of a snapshot of " + last.bytes() + "; take it again");
    }
  }

  @Override
  public SnapshotInfo finish() {
    if (last == null) {
      throw new KvException(
          KvException.Code.UNAVAILABLE,
          peer + " ended the snapshot stream before the snapshot was whole; take it again");
    }
    return last;
  }
}
