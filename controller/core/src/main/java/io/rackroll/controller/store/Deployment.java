package io.rackroll.controller.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A deployment: what was asked, how it rolls out, where it stands, and each host's part in it.
 *
 * @param strategy the rollout options in their canonical text (see {@code rollout.Strategy})
 * @param state see {@link #ENDED} and {@code rollout.Rollouts}; running, awaiting_approval, paused,
 *     aborting, rolling_back while it runs
 * @param batch the batch in progress (0 is the canary when there is one)
 * @param reason why it stopped, halted or was aborted, for the operator
 * @param environment the environment it promoted the release to, or empty
 * @param windowOverride why an admin let it run outside change windows, or empty when it keeps to them
 * @param flags for a flag change (kind {@code flags}), the flags it sets, each value JSON text
 *     ({@code null} removes the flag); empty for other kinds
 */
public record Deployment(String id, String kind, String app, String version, String selector, String createdBy,
    Instant createdAt, Map<String, String> strategy, String state, int batch, int batches, int allowedFailures,
    String reason, Instant updatedAt, String environment, String windowOverride, Map<String, String> flags,
    List<Host> hosts) {

  /** States a deployment never leaves. */
  public static final Set<String> ENDED = Set.of("completed", "failed", "rolled_back", "rollback_failed", "aborted");

  public Deployment {
    strategy = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(strategy));
    flags = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(flags));
    hosts = List.copyOf(hosts);
  }

  public Deployment withHosts(List<Host> hosts) {
    return new Deployment(id, kind, app, version, selector, createdBy, createdAt, strategy, state, batch, batches,
        allowedFailures, reason, updatedAt, environment, windowOverride, flags, hosts);
  }

  public boolean ended() {
    return ENDED.contains(state);
  }

  /**
   * One host's part.
   *
   * @param phase where it stands; see {@link HostPhase} for every phase and move
   * @param batch its batch, or -1 when skipped
   * @param beforeVersion the release it ran before this deployment changed it
   * @param beforeConfig the configuration digest that release was installed with, so a revert of
   *     a reconfigure returns the host to its earlier values; empty when none
   * @param revert after a halt: "", PENDING, SENT, REVERTED or FAILED
   */
  public record Host(String agentId, String hostname, String domain, int batch, HostPhase phase, String failureKind,
      String failure, String version, String beforeVersion, String beforeConfig, String revert, Instant updatedAt) {

    public boolean done() {
      return phase.done();
    }

    public Host with(HostPhase phase, String failureKind, String failure, Instant at) {
      return new Host(agentId, hostname, domain, batch, phase, failureKind, failure, version, beforeVersion, beforeConfig, revert, at);
    }

    public Host withVersion(String version) {
      return new Host(agentId, hostname, domain, batch, phase, failureKind, failure, version, beforeVersion, beforeConfig, revert, updatedAt);
    }

    public Host withRevert(String revert, Instant at) {
      return new Host(agentId, hostname, domain, batch, phase, failureKind, failure, version, beforeVersion, beforeConfig, revert, at);
    }
  }
}
