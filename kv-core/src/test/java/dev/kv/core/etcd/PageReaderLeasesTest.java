package dev.kv.core.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.kv.core.ListQuery;
import dev.kv.core.Page;
import dev.kv.etcd.api.etcdserverpb.RangeRequest;
import dev.kv.etcd.api.etcdserverpb.RangeResponse;
import dev.kv.etcd.api.etcdserverpb.ResponseHeader;
import dev.kv.etcd.api.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The times to live of a page's leases, as etcd is asked for them. */
class PageReaderLeasesTest {

  private final ExecutorService etcd = Executors.newFixedThreadPool(4);

  @AfterEach
  void stop() {
    etcd.shutdownNow();
  }

  @Test
  void aPageOfManyLeases_asksForTheirTimesToLive_aBoundedNumberAtATime() throws Exception {
    List<KeyValue> stored = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      stored.add(
          KeyValue.newBuilder()
              .setKey(ByteString.copyFromUtf8(String.format("k%04d", i)))
              .setValue(ByteString.copyFromUtf8("v"))
              .setCreateRevision(2)
              .setModRevision(2)
              .setVersion(1)
              .setLease(1000 + i)
              .build());
    }
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    PageReader.Lookups lookups =
        new PageReader.Lookups() {
          @Override
          public CompletableFuture<Long> timeToLive(long id) {
            most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            return CompletableFuture.supplyAsync(
                () -> {
                  sleep();
                  inFlight.decrementAndGet();
                  return id - 900;
                },
                etcd);
          }

          @Override
          public CompletableFuture<Long> oldestKept(long compacted) {
            return CompletableFuture.failedFuture(new AssertionError("no compaction here"));
          }
        };
    ListQuery query = ListQuery.prefix("").limit(1000).withTtl();

    Page page =
        PageReader.read(
                query,
                EtcdMessages.list(query),
                (request, maxBytes) -> CompletableFuture.completedFuture(answer(request, stored)),
                lookups)
            .get(60, TimeUnit.SECONDS);

    assertThat(page.entries()).hasSize(500);
    assertThat(page.ttlSeconds()).hasSize(500);
    assertThat(page.ttlSeconds("k0000")).isEqualTo(100);
    assertThat(page.ttlSeconds("k0499")).isEqualTo(599);
    // Concurrent, but nowhere near one call per lease of the page at once.
    assertThat(most.get()).isBetween(2, 64);
  }

  /** What etcd answers {@code request} with, holding {@code stored}. */
  private static RangeResponse answer(RangeRequest request, List<KeyValue> stored) {
    List<KeyValue> from =
        stored.stream()
            .filter(
                kv ->
                    ByteString.unsignedLexicographicalComparator()
                            .compare(kv.getKey(), request.getKey())
                        >= 0)
            .toList();
    int limit =
        request.getLimit() == 0 ? from.size() : (int) Math.min(request.getLimit(), from.size());
    return RangeResponse.newBuilder()
        .setHeader(ResponseHeader.newBuilder().setRevision(7))
        .addAllKvs(from.subList(0, limit))
        .setMore(limit < from.size())
        .setCount(from.size())
        .build();
  }

  private static void sleep() {
    try {
      Thread.sleep(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
