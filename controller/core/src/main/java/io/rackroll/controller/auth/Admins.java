package io.rackroll.controller.auth;

import io.rackroll.controller.store.EnrollmentStore;
import io.rackroll.controller.store.StoredAdmin;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Each active admin's role, in memory: read on every admin call, so it costs a map lookup. Loaded
 * from the store at start and again after each change (an admin added or revoked), which the
 * store has committed first.
 */
public final class Admins {
  private final EnrollmentStore store;
  private final Clock clock;
  private volatile Map<String, AdminRole> active = Map.of();

  public Admins(EnrollmentStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
    reload();
  }

  /** Reads the admins again; call after every change to them. */
  public void reload() {
    active = store.admins(clock.instant()).stream().filter(StoredAdmin::active)
        .collect(Collectors.toUnmodifiableMap(StoredAdmin::name, a -> AdminRole.parse(a.role()), (a, b) -> a));
  }

  /** The role of active admin {@code name}; empty for one revoked or never added. */
  public Optional<AdminRole> roleOf(String name) {
    return Optional.ofNullable(active.get(name));
  }

}
