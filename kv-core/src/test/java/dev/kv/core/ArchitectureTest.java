package dev.kv.core;

import static com.tngtech.archunit.base.DescribedPredicate.alwaysTrue;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import java.util.ArrayList;
import java.util.List;

/**
 * The dependency rules of kv-core, by package, so that a class added to a package follows them
 * without a change here. A new package under {@code dev.kv.core} counts as an adapter until it is
 * named in {@link #SHARED}.
 */
@AnalyzeClasses(packages = "dev.kv", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  /** What the adapters share: values their builders take, gRPC and thread plumbing. */
  private static final String[] SHARED = {
    "dev.kv.core.config..", "dev.kv.core.grpc..", "dev.kv.core.local..", "dev.kv.core.tls.."
  };

  @ArchTest
  static final ArchRule coreHasNoServerOrCommandLineCode =
      noClasses()
          .that()
          .resideInAPackage("dev.kv.core..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("dev.kv.server..", "dev.kv.cli..", "dev.kv.launch..", "picocli..");

  @ArchTest
  static final ArchRule portImportsNoAdapterAndNoLibrary =
      noClasses()
          .that()
          .resideInAPackage("dev.kv.core")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "dev.kv.core.(*)..", "dev.kv.api..", "dev.kv.etcd..", "io.grpc..", "org.rocksdb..");

  @ArchTest
  static final ArchRule adaptersDoNotImportEachOther =
      slices()
          .matching("dev.kv.core.(*)..")
          .should()
          .notDependOnEachOther()
          .ignoreDependency(alwaysTrue(), resideInAnyPackage(SHARED));

  @ArchTest
  static final ArchRule onlyTheEmbeddedStoreUsesRocksDb =
      noClasses()
          .that()
          .resideOutsideOfPackage("dev.kv.core.embedded..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.rocksdb..");

  @ArchTest
  static final ArchRule onlyTheEtcdStoreSpeaksEtcd =
      noClasses()
          .that()
          .resideInAPackage("dev.kv.core..")
          .and()
          .resideOutsideOfPackage("dev.kv.core.etcd..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("dev.kv.etcd.api..");

  /**
   * kv-proto's and etcd-proto's classes need only protobuf, gRPC and Guava, never kv's code; kv's
   * also google.api's annotations, for its HTTP routes (proto-google-common-protos, which
   * grpc-protobuf brings).
   */
  @ArchTest
  static final ArchRule kvApiStandsAlone = generatedCodeIn("dev.kv.api..", "com.google.api..");

  @ArchTest static final ArchRule etcdApiStandsAlone = generatedCodeIn("dev.kv.etcd.api..");

  private static ArchRule generatedCodeIn(String packages, String... alsoAllowed) {
    List<String> allowed =
        new ArrayList<>(
            List.of(
                packages, "com.google.protobuf..", "com.google.common..", "io.grpc..", "java.."));
    allowed.addAll(List.of(alsoAllowed));
    return classes()
        .that()
        .resideInAPackage(packages)
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(allowed.toArray(String[]::new));
  }
}
