package io.rackroll.controller.auth;

import io.rackroll.controller.store.EnrollmentStore;
import io.rackroll.controller.store.StoredAdmin;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Each active admin's role, in memory: read on every admin call, so it costs a map lookup. Loaded
 * from the store at start and again after each change (an admin added or revoked), which the
 * store has committed first.
 */
public final class Admins {
  private final EnrollmentStore store;
  private final Clock clock;
  private volatile Map<String, Grant> active = Map.of();

  /**
   * What an admin may do: its role and, for a deployer, the environments it may change (empty:
   * every one).
   */
  public record Grant(AdminRole role, Set<String> environments) {
    public Grant {
      environments = Set.copyOf(environments);
    }

    /** Whether this admin may change hosts of {@code environment} ("" for hosts of none). */
    public boolean reaches(String environment) {
      return environments.isEmpty() || environments.contains(environment);
    }
  }


  public Admins(EnrollmentStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
    reload();
  }

  /** Reads the admins again; call after every change to them. */
  public void reload() {
    active = store.admins(clock.instant()).stream().filter(StoredAdmin::active)
        .collect(Collectors.toUnmodifiableMap(StoredAdmin::name,
            a -> new Grant(AdminRole.parse(a.role()), Set.copyOf(a.environments())), (a, b) -> a));
  }

  /** Told after each {@link #changed()} (another controller node then reloads). */
  private volatile Runnable onChange = () -> { };

  public void onChange(Runnable onChange) {
    this.onChange = onChange;
  }

  /** Reads the admins again after a change this node made, and tells the other nodes. */
  public void changed() {
    reload();
    onChange.run();
  }

  /**
   * What active admin {@code name} may do; empty for one revoked or never added. A name not known
   * here is looked up in the store once (at most once a second): another controller node may have
   * just added it, and its word of it may not have arrived yet.
   */
  public Optional<Grant> grantOf(String name) {
    Grant g = active.get(name);
    if (g == null && clock.millis() - lastMissReload > 1_000) {
      lastMissReload = clock.millis();
      reload();
      g = active.get(name);
    }
    return Optional.ofNullable(g);
  }

  /** When a name not known made this read the store again (see {@link #grantOf}). */
  private volatile long lastMissReload;

}
