package io.rackroll.controller.store;

import java.time.Instant;
import java.util.Map;

/**
 * An agent's report of a flag change of one app, as the controller keeps it.
 *
 * @param deploymentId the flags deployment (with ":revert" for its revert), or empty
 * @param phase APPLYING, ACTIVE, ROLLED_BACK or FAILED
 * @param flags the app's flags on the host now: name to the value's JSON text
 */
public record FlagsReport(String agentId, String deploymentId, String app, String phase, String failureKind,
    String failure, Map<String, String> flags, Instant at) {
  public FlagsReport {
    flags = Map.copyOf(flags);
  }
}
