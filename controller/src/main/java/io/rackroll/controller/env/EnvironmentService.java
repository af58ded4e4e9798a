package io.rackroll.controller.env;

import io.rackroll.controller.store.AuditEntry;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.store.StoredAgent;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The environments file in force: loaded from the store at start, replaced by {@link #apply}.
 * Readers on any thread see one whole file ({@link #current} is a single immutable value).
 */
public final class EnvironmentService {
  private static final Logger log = LoggerFactory.getLogger(EnvironmentService.class);
  /** Agents named in an overlap refusal, at most. */
  private static final int NAMED = 5;

  private final Store store;
  private final Clock clock;
  private volatile Environments current;

  public EnvironmentService(Store store, Clock clock) {
    this.store = store;
    this.clock = clock;
    this.current = store.environmentFile()
        .map(f -> EnvironmentsFile.parse(f.yaml(), "environments file version " + f.version(), f.version(),
            f.appliedBy(), f.appliedAt()))
        .orElse(Environments.NONE);
  }

  public Environments current() {
    return current;
  }

  /**
   * Checks {@code yaml} against the fleet and, unless {@code dryRun}, puts it in force. Refused
   * with nothing changed when it is invalid or an agent would belong to two environments.
   */
  public synchronized Environments apply(String yaml, String source, boolean dryRun, String admin) {
    Environments next = EnvironmentsFile.parse(yaml, source, current.version() + 1, admin, clock.instant());
    List<String> overlaps = new ArrayList<>();
    for (StoredAgent a : store.agents()) {
      List<String> in = next.matching(a);
      if (in.size() > 1) {
        overlaps.add(a.id() + " (" + String.join(", ", in) + ")");
      }
    }
    if (!overlaps.isEmpty()) {
      throw new EnvironmentException(source + ": " + overlaps.size() + " agent(s) would belong to more than one"
          + " environment: " + String.join("; ", overlaps.subList(0, Math.min(NAMED, overlaps.size())))
          + (overlaps.size() > NAMED ? "; ..." : "") + "; make the selectors exclusive (e.g. env=staging, env=prod)");
    }
    if (dryRun) {
      return next;
    }
    int version = store.applyEnvironments(yaml, admin, next.appliedAt());
    next = new Environments(version, next.lifecycle(), next.byName(), yaml, admin, next.appliedAt());
    store.audit(AuditEntry.of(next.appliedAt(), admin, "env apply", "environments",
        "version " + version + ": " + String.join(", ", next.byName().keySet())
            + (next.lifecycle().isEmpty() ? "" : "; lifecycle " + String.join(" -> ", next.lifecycle()))));
    log.info("environments file version {} applied by {}: {}", version, admin, next.byName().keySet());
    current = next;
    return next;
  }
}
