package io.rackroll.controller.rollout;

import io.rackroll.controller.env.Environment;
import io.rackroll.controller.env.EnvironmentService;
import io.rackroll.controller.env.Environments;
import io.rackroll.controller.env.Schedule;
import io.rackroll.controller.store.StoredAgent;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Whether hosts may change now. A deployment (not a rollback) starts only while every environment
 * it touches may change, and before each batch it asks again for that batch's hosts; outside a
 * window it waits between batches, never inside one.
 */
final class ChangeWindows {
  private final EnvironmentService environments;
  private final Clock clock;

  ChangeWindows(EnvironmentService environments, Clock clock) {
    this.environments = environments;
    this.clock = clock;
  }

  Environments current() {
    return environments.current();
  }

  /**
   * Why batch {@code batch} of {@code r} may not start now, if it may not: the first environment
   * among its hosts' that is outside its window or frozen. Rollbacks and overridden deployments
   * always may.
   */
  Optional<String> closedFor(Rollout r, int batch) {
    if (!r.kind.keepsToWindows() || !r.windowOverride.isEmpty()) {
      return Optional.empty();
    }
    Environments envs = environments.current();
    return closed(envs, r.environmentsOf(batch, envs)).map(c -> "waits for a change window: " + c);
  }

  /** Why {@code agents} may not change now, if they may not, as {@link #closed(Environments, Set)}. */
  Optional<String> closedFor(List<StoredAgent> agents) {
    Environments envs = environments.current();
    return closed(envs, environmentsOf(agents, envs));
  }

  /** The environment names of {@code agents}, each once. */
  static Set<String> environmentsOf(List<StoredAgent> agents, Environments envs) {
    Set<String> names = new LinkedHashSet<>();
    agents.forEach(a -> envs.of(a).ifPresent(e -> names.add(e.name())));
    return names;
  }

  /** The first of {@code names} closed now, as "production is outside ...; it opens ...". */
  private Optional<String> closed(Environments envs, Set<String> names) {
    Instant now = clock.instant();
    for (Environment e : names.stream().map(envs::get).flatMap(Optional::stream).toList()) {
      Optional<Schedule.Closed> c = e.schedule().closed(now);
      if (c.isPresent()) {
        return Optional.of(e.name() + " is " + c.get().why() + "; it opens " + e.schedule().show(c.get().opens()));
      }
    }
    return Optional.empty();
  }
}
