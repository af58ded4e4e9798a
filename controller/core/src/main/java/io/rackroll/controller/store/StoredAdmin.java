package io.rackroll.controller.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A person (or CI system) with certificates of their own.
 *
 * @param role viewer, deployer, operator or owner
 * @param environments the environments a deployer may change; empty: every one
 * @param revokedAt when their certificates were refused; empty while active
 * @param certificates how many of their certificates are unexpired and not refused
 */
public record StoredAdmin(String name, String role, List<String> environments, String createdBy, Instant createdAt, Optional<Instant> revokedAt,
    String revokedBy, int certificates) {
  public StoredAdmin {
    environments = List.copyOf(environments);
  }

  public boolean active() {
    return revokedAt.isEmpty();
  }
}
