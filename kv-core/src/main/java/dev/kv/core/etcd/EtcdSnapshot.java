package dev.kv.core.etcd;

import com.google.protobuf.ByteString;
import dev.kv.core.KvException;
import dev.kv.core.SnapshotInfo;
import dev.kv.core.grpc.SnapshotDownload;
import dev.kv.etcd.api.etcdserverpb.SnapshotResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * etcd's database file as Maintenance.Snapshot streams it, written as it comes: the file ends with
 * the SHA-256 of the bytes before, which {@code etcdctl snapshot restore} checks. It is checked
 * here as well, as the bytes pass, so that a transfer damaged on the way is never taken for a whole
 * one.
 */
final class EtcdSnapshot implements SnapshotDownload.Reader<SnapshotResponse> {

  private static final int CHECKSUM_BYTES = 32;

  private final String peer;
  private final MessageDigest digest;

  /** The last bytes received, up to a checksum's worth: the checksum, once the stream ends. */
  private ByteString tail = ByteString.EMPTY;

  private long revision;
  private long bytes;

  /**
   * @param readBefore the revision of a read made just before the snapshot was asked for, for a
   *     member that sends none with it (etcd 3.4)
   */
  EtcdSnapshot(String peer, long readBefore) {
    this.peer = peer;
    this.revision = readBefore;
    try {
      this.digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  @Override
  public void write(SnapshotResponse message, OutputStream out) throws IOException {
    if (message.hasHeader() && message.getHeader().getRevision() > 0) {
      revision = message.getHeader().getRevision();
    }
    ByteString blob = message.getBlob();
    blob.writeTo(out);
    bytes += blob.size();
    ByteString unchecked = tail.concat(blob);
    int database = unchecked.size() - CHECKSUM_BYTES;
    if (database > 0) {
      digest.update(unchecked.substring(0, database).asReadOnlyByteBuffer());
      unchecked = unchecked.substring(database);
    }
    tail = unchecked;
  }

  @Override
  public SnapshotInfo finish() {
    if (tail.size() < CHECKSUM_BYTES
        || !MessageDigest.isEqual(digest.digest(), tail.toByteArray())) {
      throw new KvException(
          KvException.Code.DATA_LOSS,
          "the snapshot "
              + peer
              + " sent does not match its checksum: it was damaged on the way; take it again");
    }
    return new SnapshotInfo(SnapshotInfo.ETCD, revision, bytes);
  }
}
