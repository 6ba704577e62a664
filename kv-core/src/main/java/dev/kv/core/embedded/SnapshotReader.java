package dev.kv.core.embedded;

import dev.kv.core.KeyValue;
import dev.kv.core.KvException;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.core.Ttl;
import dev.kv.core.WatchEvent;
import dev.kv.core.WatchQuery;
import dev.kv.core.embedded.Records.Stored;
import dev.kv.core.local.History;
import dev.kv.core.local.ListingRevisions;
import dev.kv.core.local.PastPage;
import dev.kv.core.local.Pins;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.rocksdb.ReadOptions;
import org.rocksdb.ReadTier;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.Status;

/**
 * The embedded store's reads. Each sees the database as one moment left it: a single record, or a
 * RocksDB snapshot for anything that reads more than one. The writer makes a batch durable before
 * anyone can see it, so a reader never sees a batch in part.
 *
 * <p>Each read looks as far as the {@link ReadTier} it is given: with {@link
 * ReadTier#BLOCK_CACHE_TIER}, it answers from memory alone or fails as {@link Database#neededDisk},
 * so that a caller that must not wait can try it first and hand it to a thread that may wait only
 * when the disk is needed.
 */
final class SnapshotReader {

  private final Database database;

  /** The snapshots that paged listings read their later pages from, by revision. */
  private final Pins<Long, Snapshot> listings;

  /** A reader whose listings' snapshots stay pinned for {@link Pins#LEASE}. */
  SnapshotReader(Database database) {
    this(database, Pins.LEASE);
  }

  /**
   * @param listingLease how long a listing's snapshot stays pinned after its last page
   */
  SnapshotReader(Database database, Duration listingLease) {
    this.database = database;
    this.listings =
        new Pins<>(listingLease, Pins.CAP, database.db::releaseSnapshot, "kv-embedded-listings");
  }

  /** The entry under {@code key}, if there is one. */
  Optional<KeyValue> get(String key, ReadTier tier) throws RocksDBException {
    byte[] stored = database.db.get(database.entries, database.reads(tier), Records.utf8(key));
    return Optional.ofNullable(stored).map(bytes -> Stored.decode(bytes).withKey(key));
  }

  /**
   * The page that {@code query} asks for, and the revision it was read at. A page at the latest
   * revision with more keys after it keeps its snapshot pinned, for the pages after it to read at
   * its revision; a past revision is read from such a pin, or else rebuilt from the history (see
   * {@link PastPage}).
   */
  Page list(ListQuery query, ReadTier tier) throws RocksDBException {
    if (query.revision() != 0) {
      Optional<Pins<Long, Snapshot>.Use> pinned = listings.use(query.revision());
      if (pinned.isPresent()) {
        try (Pins<Long, Snapshot>.Use use = pinned.get();
            View view = new View(use.value(), tier)) {
          return view.list(query, query.revision());
        }
      }
    }
    try (View view = new View(tier)) {
      long at = view.number(Records.REVISION_KEY);
      if (query.revision() > at) {
        throw ListingRevisions.beyond(query.revision(), at);
      }
      if (query.revision() != 0 && query.revision() != at) {
        return view.past(query, at);
      }
      Page page = view.list(query, at);
      if (page.more()) {
        view.pin(at);
      }
      return page;
    }
  }

  /** The seconds {@code entry} has left to live, 0 for no end. */
  private static long ttlSeconds(Stored entry) {
    return entry.expiresAt() == 0
        ? 0
        : Ttl.secondsLeft(Duration.ofMillis(entry.expiresAt() - System.currentTimeMillis()));
  }

  /** The revision of the last durable batch. */
  long revision(ReadTier tier) throws RocksDBException {
    return Records.number(
        database.db.get(database.meta, database.reads(tier), Records.REVISION_KEY));
  }

  /** The oldest revision whose changes the history keeps. */
  long firstKept() throws RocksDBException {
    return Records.number(database.db.get(database.meta, Records.FIRST_KEPT_KEY));
  }

  /**
   * The history as it is now, for a watch that starts in the past: its changes up to {@code upTo},
   * the last revision published to the watches. A batch durable but not yet published may have
   * trimmed more, so the oldest revision kept is read from the same snapshot as the changes.
   */
  History history(long upTo) {
    return new PastChanges(upTo);
  }

  /**
   * Releases the snapshots that listings pinned: once no read is under way, before the database
   * closes.
   */
  void close() {
    listings.close();
  }

  /** The error that a failed read ({@link RocksDBException} or {@link KvException}) means. */
  KvException failure(Exception e) {
    return database.readFailure(e);
  }

  /**
   * A snapshot of the database, and the options that read from it as far as a tier. A snapshot of
   * its own is released on close, unless pinned; a pinned one is the pins' to release.
   */
  private final class View implements AutoCloseable {
    final Snapshot snapshot;
    final ReadOptions options;
    private final ReadTier tier;
    private final boolean owned;
    private boolean pinned;

    View(ReadTier tier) {
      this(database.db.getSnapshot(), tier, true);
    }

    /** A view of a snapshot that {@link #listings} hold. */
    View(Snapshot pinned, ReadTier tier) {
      this(pinned, tier, false);
    }

    private View(Snapshot snapshot, ReadTier tier, boolean owned) {
      this.snapshot = snapshot;
      this.tier = tier;
      this.owned = owned;
      this.options = new ReadOptions().setSnapshot(snapshot).setReadTier(tier);
    }

    long number(byte[] metaKey) throws RocksDBException {
      return Records.number(database.db.get(database.meta, options, metaKey));
    }

    /** The page {@code query} asks for, read at revision {@code at}. */
    Page list(ListQuery query, long at) throws RocksDBException {
      byte[] end = query.to().isEmpty() ? null : Records.utf8(query.to());
      Page.Builder page = Page.builder(query);
      try (RocksIterator iterator = database.db.newIterator(database.entries, options)) {
        for (iterator.seek(Records.utf8(query.pageStart())); iterator.isValid(); iterator.next()) {
          if (end != null && Arrays.compareUnsigned(iterator.key(), end) >= 0) {
            break;
          }
          Stored stored = Stored.decode(iterator.value());
          if (!page.add(stored.withKey(Records.utf8(iterator.key())), ttlSeconds(stored))) {
            return page.build(true, at);
          }
        }
        iterator.status(); // a read that failed ends the loop too: never a short page
      }
      return page.build(false, at);
    }

    /**
     * The page {@code query} asks for at its past revision, rebuilt from the entries and the
     * history as this view sees them at revision {@code at}: see {@link PastPage}.
     */
    Page past(ListQuery query, long at) throws RocksDBException {
      if (tier == ReadTier.BLOCK_CACHE_TIER) {
        // It reads the history too, which memory seldom holds: on the pool, from the start.
        throw new RocksDBException(
            "a listing at a past revision reads the history",
            new Status(Status.Code.Incomplete, Status.SubCode.None, null));
      }
      try (PastChanges history = new PastChanges(at, this);
          RocksIterator iterator = database.db.newIterator(database.entries, options)) {
        byte[] end = query.to().isEmpty() ? null : Records.utf8(query.to());
        iterator.seek(Records.utf8(query.pageStart()));
        Iterator<PastPage.Current> current =
            new Iterator<>() {
              @Override
              public boolean hasNext() {
                if (!iterator.isValid()) {
                  try {
                    iterator.status(); // a read that failed ends the entries too
                  } catch (RocksDBException e) {
                    throw failure(e);
                  }
                  return false;
                }
                return end == null || Arrays.compareUnsigned(iterator.key(), end) < 0;
              }

              @Override
              public PastPage.Current next() {
                Stored stored = Stored.decode(iterator.value());
                PastPage.Current entry =
                    new PastPage.Current(
                        stored.withKey(Records.utf8(iterator.key())), ttlSeconds(stored));
                iterator.next();
                return entry;
              }
            };
        return PastPage.read(query, at, current, history, listings.lease());
      }
    }

    /** Hands the snapshot to {@link #listings}, pinned under {@code revision}. */
    void pin(long revision) {
      listings.pin(revision, snapshot);
      pinned = true;
    }

    @Override
    public void close() {
      options.close();
      if (owned && !pinned) {
        database.db.releaseSnapshot(snapshot);
      }
    }
  }

  private final class PastChanges implements History {
    private final long upTo;
    private final View view;
    private final boolean ownView;

    PastChanges(long upTo) {
      this.upTo = upTo;
      this.view = new View(ReadTier.READ_ALL_TIER);
      this.ownView = true;
    }

    /** The history as {@code view}, which stays its owner's, sees it. */
    PastChanges(long upTo, View view) {
      this.upTo = upTo;
      this.view = view;
      this.ownView = false;
    }

    @Override
    public long firstKept() {
      try {
        return view.number(Records.FIRST_KEPT_KEY);
      } catch (RocksDBException | KvException e) {
        throw failure(e);
      }
    }

    /** Read at once, so that a failed read fails the watch before it delivers anything. */
    @Override
    public Stream<WatchEvent> since(long start, WatchQuery query) {
      List<WatchEvent> changes = new ArrayList<>();
      try (RocksIterator iterator = database.db.newIterator(database.history, view.options)) {
        for (iterator.seek(Records.changeKey(start, 0)); iterator.isValid(); iterator.next()) {
          if (Records.revisionOfChange(iterator.key()) > upTo) {
            break;
          }
          WatchEvent change = Records.change(iterator.key(), iterator.value());
          if (query.covers(change.entry().key())) {
            changes.add(change);
          }
        }
        iterator.status();
      } catch (RocksDBException | KvException e) {
        throw failure(e);
      }
      return changes.stream();
    }

    @Override
    public void close() {
      if (ownView) {
        view.close();
      }
    }
  }
}
