package dev.kv.core.backup;

import dev.kv.core.KvStore;
import dev.kv.core.etcd.EtcdCluster;
import dev.kv.core.etcd.EtcdStore;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Export and import between two real etcd members of clusters of their own. */
class EtcdExportImportTest extends ExportImportContract {

  @RegisterExtension static final EtcdCluster sourceEtcd = EtcdCluster.ofMembers(1);
  @RegisterExtension static final EtcdCluster targetEtcd = EtcdCluster.ofMembers(1);

  /** The contract asks for the source first, then the target. */
  private boolean sourceOpened;

  @Override
  protected KvStore newStore() {
    EtcdCluster etcd = sourceOpened ? targetEtcd : sourceEtcd;
    sourceOpened = !sourceOpened;
    etcd.deleteAllKeys();
    return EtcdStore.builder().endpoints(etcd.endpoints()).timeout(Duration.ofSeconds(30)).build();
  }

  @Override
  protected String kind() {
    return "etcd";
  }
}
