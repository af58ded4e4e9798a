package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What every backend's {@code AuditStore} must do: the audit log. */
abstract class AuditStoreContract extends StoreContract {
  @Test
  void auditEntriesComeBackNewestFirst() {
    String target = id("d-");
    store().audit().record(AuditEntry.of(T0, "alice", "deploy", target, "web@2"));
    store().audit().record(AuditEntry.of(T0.plusSeconds(1), "controller", "halt", target, "failure budget spent"));
    List<AuditEntry> mine = store().audit().recent(1000).stream().filter(e -> e.target().equals(target)).toList();
    assertThat(mine).extracting(AuditEntry::actor).containsExactly("controller", "alice");
    assertThat(mine.get(0).seq()).isGreaterThan(mine.get(1).seq());
    assertThat(store().audit().recent(1)).hasSize(1);
  }
}
