package dev.kv.core.etcd;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/** One kind of call to etcd, recorded as it is made, that a test answers when it chooses. */
final class CallsAnsweredByHand<Q, A> implements Function<Q, CompletableFuture<A>> {

  final List<Q> requests = new ArrayList<>();
  final List<CompletableFuture<A>> answers = new ArrayList<>();

  @Override
  public CompletableFuture<A> apply(Q request) {
    requests.add(request);
    CompletableFuture<A> answer = new CompletableFuture<>();
    answers.add(answer);
    return answer;
  }
}
