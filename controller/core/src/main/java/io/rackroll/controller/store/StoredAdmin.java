package io.rackroll.controller.store;

import java.time.Instant;
import java.util.Optional;

/**
 * A person (or CI system) with certificates of their own.
 *
 * @param role viewer, deployer, operator or owner
 * @param revokedAt when their certificates were refused; empty while active
 * @param certificates how many of their certificates are unexpired and not refused
 */
public record StoredAdmin(String name, String role, String createdBy, Instant createdAt, Optional<Instant> revokedAt,
    String revokedBy, int certificates) {
  public boolean active() {
    return revokedAt.isEmpty();
  }
}
