package io.rackroll.controller.fleet;

import io.rackroll.controller.store.FlagsReport;
import io.rackroll.controller.store.HostJob;

/**
 * What the rest of the controller learns from the fleet, in the order it happened. Called on the
 * registry's events thread after the event is in the store; implementations hand work to their
 * own thread and return at once.
 */
public interface FleetListener {
  void connected(String agentId);

  void disconnected(String agentId);

  /** A connected agent has not been heard from for longer than its heartbeats allow (stale). */
  default void silent(String agentId) {
  }

  void job(HostJob job);

  /** A host's report of a flag change, after its flags are in the store. */
  void flags(FlagsReport report);

  void health(String agentId, String app, boolean healthy, String line);

  /** A host in {@code deploymentId} holds {@code bytes} of {@code size} of the artifact it downloads. */
  void downloaded(String agentId, String deploymentId, long bytes, long size);
}
