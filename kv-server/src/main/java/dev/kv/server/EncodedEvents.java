package dev.kv.server;

import dev.kv.core.WatchEvent;
import dev.kv.core.grpc.ApiMessages;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Each change's watch response, encoded once for all the watches it goes to: a store hands one
 * change to each of its watches in turn, and all but the first get the bytes the first one encoded.
 * An encoding is kept while a watch holds it, and the latest ones besides (up to {@link
 * #RECENT_BYTES}), for the watches that have yet to get them.
 */
final class EncodedEvents {

  /** The latest encodings kept whether or not a watch holds them: a few of the largest values. */
  static final long RECENT_BYTES = 4 << 20;

  private final Map<WatchEvent, Encoding> byEvent = new HashMap<>();
  private final ReferenceQueue<EncodedResponse> unused = new ReferenceQueue<>();
  private final ArrayDeque<EncodedResponse> recent = new ArrayDeque<>();
  private long recentBytes;

  /** The response for {@code event}, encoded now unless it already was. */
  synchronized EncodedResponse of(WatchEvent event) {
    for (Object gone = unused.poll(); gone != null; gone = unused.poll()) {
      byEvent.remove(((Encoding) gone).event, gone);
    }
    Encoding known = byEvent.get(event);
    EncodedResponse encoded = known == null ? null : known.get();
    if (encoded == null) {
      encoded = EncodedResponse.of(ApiMessages.response(event), event.revision());
      byEvent.put(event, new Encoding(event, encoded, unused));
      recent.addLast(encoded);
      recentBytes += encoded.size();
      while (recentBytes > RECENT_BYTES && recent.size() > 1) {
        recentBytes -= recent.removeFirst().size();
      }
    }
    return encoded;
  }

  /** An encoding, let go of once no watch holds it and it is no longer among the latest. */
  private static final class Encoding extends WeakReference<EncodedResponse> {
    final WatchEvent event;

    Encoding(WatchEvent event, EncodedResponse encoded, ReferenceQueue<EncodedResponse> unused) {
      super(encoded, unused);
      this.event = event;
    }
  }
}
