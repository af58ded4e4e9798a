package io.rackroll.controller.store;

import java.util.List;

/** The audit log: who did what to what, newest first. */
public interface AuditStore {
  void record(AuditEntry entry);

  /** The newest {@code limit} audit entries, newest first. */
  default List<AuditEntry> recent(int limit) {
    return recent(limit, "");
  }

  /** The newest {@code limit} audit entries of {@code actor} (every actor when empty), newest first. */
  List<AuditEntry> recent(int limit, String actor);
}
