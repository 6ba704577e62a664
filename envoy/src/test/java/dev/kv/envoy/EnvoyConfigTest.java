package dev.kv.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.Gson;
import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.kv.api.KVGrpc;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HealthCheck;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder;
import io.envoyproxy.envoy.extensions.filters.http.grpc_web.v3.GrpcWeb;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.grpc.MethodDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * {@code envoy/envoy.yaml} read as Envoy reads it: into its v3 {@code Bootstrap}, failing on any
 * unknown field or type; then checked against the project and {@code docker-compose.yml}.
 */
class EnvoyConfigTest {

  private static final Path ENVOY = Path.of(System.getProperty("kv.root"), "envoy");

  /** The types that {@code typed_config} and protocol options may name. */
  private static final JsonFormat.TypeRegistry TYPES =
      JsonFormat.TypeRegistry.newBuilder()
          .add(HttpConnectionManager.getDescriptor())
          .add(Router.getDescriptor())
          .add(Cors.getDescriptor())
          .add(CorsPolicy.getDescriptor())
          .add(GrpcWeb.getDescriptor())
          .add(GrpcJsonTranscoder.getDescriptor())
          .add(HttpProtocolOptions.getDescriptor())
          .add(PreviousHostsPredicate.getDescriptor())
          .build();

  /** The kv.KV methods that change nothing, and so may be tried again on another replica. */
  private static final Set<String> READS = Set.of("Get", "List", "Status");

  /** Retry conditions under which a call cannot have reached a replica: safe for writes. */
  private static final Set<String> NEVER_SENT = Set.of("connect-failure", "refused-stream");

  private static final int ADMIN_PORT = 9910;
  private static final int ETCD_PORT = 9911;
  private static final int KV_PORT = 9912;

  /** The API's descriptor set as the build makes it, and where the Envoy container reads it. */
  private static final String DESCRIPTOR_BUILT = "../kv-proto/target/descriptor/kv.pb";

  private static final String DESCRIPTOR_IN_CONTAINER = "/etc/envoy/kv.pb";

  private static Bootstrap bootstrap;
  private static Map<String, Map<String, Object>> services;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void read() throws Exception {
    bootstrap = parse(Files.readString(ENVOY.resolve("envoy.yaml")));
    Map<String, Object> compose =
        (Map<String, Object>) yaml(Files.readString(ENVOY.resolve("docker-compose.yml")));
    services = (Map<String, Map<String, Object>>) compose.get("services");
  }

  @Test
  void adminAndListeners_onTheDocumentedPorts() {
    assertThat(bootstrap.getAdmin().getAddress().getSocketAddress().getPortValue())
        .isEqualTo(ADMIN_PORT);
    assertThat(bootstrap.getStaticResources().getListenersList())
        .extracting(Listener::getName, listener -> port(listener.getAddress().getSocketAddress()))
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("etcd", ETCD_PORT),
            org.assertj.core.groups.Tuple.tuple("kv", KV_PORT));
  }

  @Test
  void everyHttpFilter_isTypedAndTheRouterComesLast() throws Exception {
    for (Listener listener : bootstrap.getStaticResources().getListenersList()) {
      List<HttpFilter> filters = connectionManager(listener).getHttpFiltersList();
      assertThat(filters).as(listener.getName()).allMatch(HttpFilter::hasTypedConfig);
      assertThat(filters.get(filters.size() - 1).getTypedConfig().is(Router.class))
          .as("the router is the last filter of " + listener.getName())
          .isTrue();
    }
  }

  @Test
  void etcdListener_routesOnlyTheAuthorityEtcd_toTheEtcdCluster_withoutTimeout() throws Exception {
    List<VirtualHost> hosts =
        connectionManager(listener("etcd")).getRouteConfig().getVirtualHostsList();

    assertThat(hosts).flatExtracting(VirtualHost::getDomainsList).containsExactly("etcd", "etcd:*");
    assertThat(hosts.get(0).getRoutesList())
        .isNotEmpty()
        .allSatisfy(
            route -> {
              assertThat(route.getRoute().getCluster()).isEqualTo("etcd");
              assertNeverTimesOut(route);
            });
  }

  @Test
  void kvListener_routesEveryKvMethod_retryingOnUnavailableOnlyTheReads() throws Exception {
    List<Route> routes = kvRoutes();

    for (MethodDescriptor<?, ?> method : KVGrpc.getServiceDescriptor().getMethods()) {
      String path = "/" + method.getFullMethodName();
      Route route =
          routeFor(routes, path).orElseThrow(() -> new AssertionError("no route " + path));
      List<String> retryOn =
          Arrays.stream(route.getRoute().getRetryPolicy().getRetryOn().split(","))
              .filter(condition -> !condition.isEmpty())
              .toList();

      assertThat(route.getRoute().getCluster()).as(path).isEqualTo("kv-server");
      assertThat(route.getMatch().getHeadersList())
          .as(path + " matches gRPC and gRPC-Web requests only")
          .singleElement()
          .satisfies(
              header -> {
                assertThat(header.getName()).isEqualTo("content-type");
                assertThat(header.getStringMatch().getPrefix()).isEqualTo("application/grpc");
              });
      if (READS.contains(method.getBareMethodName())) {
        assertThat(retryOn).as(path + " retried").contains("unavailable");
      } else {
        assertThat(NEVER_SENT).as(path + " retried only when never sent").containsAll(retryOn);
      }
      if (method.getType() == MethodDescriptor.MethodType.UNARY) {
        assertThat(route.getRoute().hasTimeout()).as(path).isTrue();
        assertThat(route.getRoute().getTimeout().getSeconds()).as(path).isPositive();
      } else {
        assertNeverTimesOut(route);
        assertThat(retryOn).as(path + " never retried once under way").isEmpty();
      }
    }
  }

  @Test
  void kvListener_routesHealthChecksAndReflection_toTheReplicas() throws Exception {
    List<Route> routes = kvRoutes();

    for (String path :
        List.of(
            "/grpc.health.v1.Health/Check",
            "/grpc.health.v1.Health/Watch",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")) {
      assertThat(routeFor(routes, path))
          .as(path)
          .hasValueSatisfying(
              route -> assertThat(route.getRoute().getCluster()).isEqualTo("kv-server"));
    }
  }

  @Test
  void bothClusters_speakHttp2ToTheirUpstreams() throws Exception {
    for (Cluster cluster : bootstrap.getStaticResources().getClustersList()) {
      Any options =
          cluster
              .getTypedExtensionProtocolOptionsMap()
              .get("envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
      assertThat(options).as(cluster.getName()).isNotNull();
      assertThat(
              options
                  .unpack(HttpProtocolOptions.class)
                  .getExplicitHttpConfig()
                  .hasHttp2ProtocolOptions())
          .as(cluster.getName() + " speaks HTTP/2")
          .isTrue();
    }
  }

  @Test
  void kvServerCluster_checksTheKvHealthService_andEjectsFailingReplicas() {
    Cluster cluster = cluster("kv-server");

    assertThat(cluster.getHealthChecksList())
        .singleElement()
        .extracting(HealthCheck::getGrpcHealthCheck)
        .extracting(HealthCheck.GrpcHealthCheck::getServiceName)
        .isEqualTo(KVGrpc.SERVICE_NAME);
    assertThat(cluster.hasOutlierDetection()).isTrue();
  }

  @Test
  @SuppressWarnings("unchecked")
  void upstreams_areTheComposeServices_onThePortsTheyServe() {
    assertThat(endpoints(cluster("kv-server"))).containsExactly("kv-server:9986");
    assertThat((Map<String, Object>) services.get("kv-server").get("deploy"))
        .extractingByKey("replicas")
        .isInstanceOfSatisfying(Integer.class, replicas -> assertThat(replicas).isGreaterThan(1));
    assertThat(environment("kv-server"))
        .containsEntry("KV_LISTEN", "0.0.0.0:9986")
        .containsEntry("KV_STORE", "etcd")
        .containsEntry("KV_ETCD_ENDPOINTS", "http://envoy:" + ETCD_PORT)
        .containsEntry("KV_ETCD_AUTHORITY", "etcd");
    assertThat(endpoints(cluster("etcd"))).containsExactly("etcd:2379");
    assertThat(services.get("etcd").get("command").toString())
        .contains("--listen-client-urls=http://0.0.0.0:2379");
  }

  @Test
  void composeEnvoy_mountsThisConfig_andPublishesItsPorts() {
    Map<String, Object> envoy = services.get("envoy");

    assertThat(envoy.get("volumes").toString()).contains("./envoy.yaml:/etc/envoy/envoy.yaml");
    assertThat(envoy.get("command").toString()).contains("/etc/envoy/envoy.yaml");
    assertThat((List<?>) envoy.get("ports"))
        .map(Object::toString)
        .containsExactlyInAnyOrder(
            "127.0.0.1:" + ADMIN_PORT + ":" + ADMIN_PORT,
            "127.0.0.1:" + ETCD_PORT + ":" + ETCD_PORT,
            "127.0.0.1:" + KV_PORT + ":" + KV_PORT);
  }

  @Test
  void kvListener_speaksHttp1AndHttp2_andConvertsGrpcWebAndJson_beforeTheRouter() throws Exception {
    HttpConnectionManager kv = connectionManager(listener("kv"));

    assertThat(kv.getCodecType()).isEqualTo(HttpConnectionManager.CodecType.AUTO);
    assertThat(kv.getHttpFiltersList())
        .extracting(HttpFilter::getName)
        .containsExactly(
            "envoy.filters.http.cors",
            "envoy.filters.http.grpc_web",
            "envoy.filters.http.grpc_json_transcoder",
            "envoy.filters.http.router");
  }

  @Test
  void transcoder_servesKv_fromTheMountedDescriptorSet_withErrorsAsHttpStatuses() throws Exception {
    GrpcJsonTranscoder transcoder =
        filter(listener("kv"), "envoy.filters.http.grpc_json_transcoder")
            .unpack(GrpcJsonTranscoder.class);

    assertThat(transcoder.getServicesList()).containsExactly(KVGrpc.SERVICE_NAME);
    assertThat(transcoder.getProtoDescriptor()).isEqualTo(DESCRIPTOR_IN_CONTAINER);
    assertThat(services.get("envoy").get("volumes").toString())
        .contains("source=" + DESCRIPTOR_BUILT, "target=" + DESCRIPTOR_IN_CONTAINER);
    assertThat(transcoder.getConvertGrpcStatus()).isTrue();
    assertThat(transcoder.getRequestValidationOptions().getRejectUnknownMethod()).isTrue();
    assertThat(transcoder.getRequestValidationOptions().getRejectUnknownQueryParameters()).isTrue();
  }

  @Test
  void cors_allowsPagesOfThisMachineOnly() throws Exception {
    CorsPolicy policy =
        connectionManager(listener("kv"))
            .getRouteConfig()
            .getVirtualHosts(0)
            .getTypedPerFilterConfigOrThrow("envoy.filters.http.cors")
            .unpack(CorsPolicy.class);

    assertThat(
            List.of(
                "http://localhost:3000",
                "http://localhost",
                "https://127.0.0.1:8443",
                "http://[::1]:8080"))
        .allMatch(origin -> allowed(policy, origin));
    assertThat(
            List.of(
                "*",
                "null",
                "https://example.com",
                "http://localhost.example.com",
                "http://localhost:3000.example.com",
                "http://127.0.0.1.example.com"))
        .noneMatch(origin -> allowed(policy, origin));
  }

  // The check itself: mistakes that Envoy would refuse fail the parse.

  @Test
  void unknownField_failsTheParse() throws Exception {
    String mistaken =
        Files.readString(ENVOY.resolve("envoy.yaml"))
            .replace("stat_prefix: kv", "stats_prefix: kv");

    assertThatThrownBy(() -> parse(mistaken))
        .isInstanceOf(InvalidProtocolBufferException.class)
        .hasMessageContaining("stats_prefix");
  }

  @Test
  void removedFilterType_failsTheParse() throws Exception {
    String mistaken =
        Files.readString(ENVOY.resolve("envoy.yaml"))
            .replace(
                "envoy.extensions.filters.http.router.v3.Router",
                "envoy.config.filter.http.router.v2.Router");

    assertThatThrownBy(() -> parse(mistaken))
        .isInstanceOf(InvalidProtocolBufferException.class)
        .hasMessageContaining("envoy.config.filter.http.router.v2.Router");
  }

  private static Bootstrap parse(String text) throws InvalidProtocolBufferException {
    Bootstrap.Builder builder = Bootstrap.newBuilder();
    JsonFormat.parser().usingTypeRegistry(TYPES).merge(new Gson().toJson(yaml(text)), builder);
    return builder.build();
  }

  private static Object yaml(String text) {
    return new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
  }

  private static int port(SocketAddress address) {
    return address.getPortValue();
  }

  private static Listener listener(String name) {
    return bootstrap.getStaticResources().getListenersList().stream()
        .filter(listener -> listener.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no listener " + name));
  }

  private static Cluster cluster(String name) {
    return bootstrap.getStaticResources().getClustersList().stream()
        .filter(cluster -> cluster.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no cluster " + name));
  }

  private static HttpConnectionManager connectionManager(Listener listener)
      throws InvalidProtocolBufferException {
    return listener
        .getFilterChains(0)
        .getFilters(0)
        .getTypedConfig()
        .unpack(HttpConnectionManager.class);
  }

  private static Any filter(Listener listener, String name) throws InvalidProtocolBufferException {
    return connectionManager(listener).getHttpFiltersList().stream()
        .filter(filter -> filter.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no filter " + name))
        .getTypedConfig();
  }

  /** Whether a browser's Origin passes the policy, matched as Envoy matches it. */
  private static boolean allowed(CorsPolicy policy, String origin) {
    return policy.getAllowOriginStringMatchList().stream()
        .anyMatch(matcher -> matches(matcher, origin));
  }

  private static boolean matches(StringMatcher matcher, String value) {
    return switch (matcher.getMatchPatternCase()) {
      case EXACT -> matcher.getExact().equals(value);
      case PREFIX -> value.startsWith(matcher.getPrefix());
      case SUFFIX -> value.endsWith(matcher.getSuffix());
      case CONTAINS -> value.contains(matcher.getContains());
      // RE2, as Envoy's, matches the whole value; this pattern means the same to Java.
      case SAFE_REGEX -> value.matches(matcher.getSafeRegex().getRegex());
      default -> throw new AssertionError("unexpected origin matcher " + matcher);
    };
  }

  private static List<Route> kvRoutes() throws InvalidProtocolBufferException {
    return connectionManager(listener("kv")).getRouteConfig().getVirtualHosts(0).getRoutesList();
  }

  /** The first route that matches {@code path}, as Envoy picks it. */
  private static Optional<Route> routeFor(List<Route> routes, String path) {
    return routes.stream()
        .filter(
            route ->
                route.getMatch().hasPath()
                    ? route.getMatch().getPath().equals(path)
                    : path.startsWith(route.getMatch().getPrefix()))
        .findFirst();
  }

  /** A stream's route: set to no timeout at all, since an unset one means 15 s. */
  private static void assertNeverTimesOut(Route route) {
    String path = route.getMatch().toString().strip();
    assertThat(route.getRoute().hasTimeout()).as(path + " sets a timeout").isTrue();
    assertThat(route.getRoute().getTimeout()).as(path).isEqualTo(Duration.getDefaultInstance());
    assertThat(route.getRoute().hasIdleTimeout()).as(path + " sets an idle timeout").isTrue();
    assertThat(route.getRoute().getIdleTimeout()).as(path).isEqualTo(Duration.getDefaultInstance());
  }

  private static List<String> endpoints(Cluster cluster) {
    return cluster.getLoadAssignment().getEndpointsList().stream()
        .flatMap(locality -> locality.getLbEndpointsList().stream())
        .map(LbEndpoint::getEndpoint)
        .map(endpoint -> endpoint.getAddress().getSocketAddress())
        .map(address -> address.getAddress() + ":" + address.getPortValue())
        .toList();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> environment(String service) {
    return (Map<String, Object>) services.get(service).get("environment");
  }
}
