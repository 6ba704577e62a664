package dev.kv.server;

import dev.kv.core.config.HostPort;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Asks a kv-server's admin listener over HTTP, as a scraper or a Kubernetes probe does. */
final class AdminClient {

  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\"");

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final HostPort address;

  AdminClient(HostPort address) {
    this.address = address;
  }

  HttpResponse<String> get(String path, String accept) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://" + address + path))
            .timeout(Duration.ofSeconds(20));
    if (accept != null) {
      request.header("Accept", accept);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  int status(String path) throws Exception {
    return get(path, null).statusCode();
  }

  /** The samples of /metrics in the Prometheus text format. */
  Samples scrape() throws Exception {
    HttpResponse<String> response = get("/metrics", null);
    if (response.statusCode() != 200) {
      throw new AssertionError("/metrics answered " + response.statusCode());
    }
    return Samples.parse(response.body());
  }

  /** Samples of one scrape: name, labels and value of each line. */
  record Samples(Map<String, Map<Map<String, String>, Double>> byName) {

    static Samples parse(String text) {
      Map<String, Map<Map<String, String>, Double>> byName = new HashMap<>();
      for (String line : text.split("\n")) {
        Matcher sample = SAMPLE.matcher(line);
        if (line.startsWith("#") || !sample.find()) {
          continue;
        }
        Map<String, String> labels = new LinkedHashMap<>();
        if (sample.group(2) != null) {
          Matcher label = LABEL.matcher(sample.group(2));
          while (label.find()) {
            labels.put(label.group(1), label.group(2));
          }
        }
        byName
            .computeIfAbsent(sample.group(1), name -> new HashMap<>())
            .put(labels, Double.parseDouble(sample.group(3)));
      }
      return new Samples(byName);
    }

    Set<String> names() {
      return new TreeSet<>(byName.keySet());
    }

    /**
     * The sum of the samples named {@code name} whose labels include {@code labels}; 0 for none.
     */
    double value(String name, Map<String, String> labels) {
      return byName.getOrDefault(name, Map.of()).entrySet().stream()
          .filter(sample -> sample.getKey().entrySet().containsAll(labels.entrySet()))
          .mapToDouble(Map.Entry::getValue)
          .sum();
    }

    double value(String name) {
      return value(name, Map.of());
    }
  }
}
