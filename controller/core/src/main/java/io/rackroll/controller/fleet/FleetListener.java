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

  /** A stale agent is heard from again. */
  default void heardAgain(String agentId) {
  }

  void job(HostJob job);

  /** A host's report of a flag change, after its flags are in the store. */
  void flags(FlagsReport report);

  void health(String agentId, String app, boolean healthy, String line);

  /** A host in {@code deploymentId} holds {@code bytes} of {@code size} of the artifact it downloads. */
  void downloaded(String agentId, String deploymentId, long bytes, long size);

  /** Tells {@code first}, then {@code second}. */
  static FleetListener both(FleetListener first, FleetListener second) {
    return new FleetListener() {
      @Override
      public void connected(String agentId) {
        first.connected(agentId);
        second.connected(agentId);
      }

      @Override
      public void disconnected(String agentId) {
        first.disconnected(agentId);
        second.disconnected(agentId);
      }

      @Override
      public void silent(String agentId) {
        first.silent(agentId);
        second.silent(agentId);
      }

      @Override
      public void heardAgain(String agentId) {
        first.heardAgain(agentId);
        second.heardAgain(agentId);
      }

      @Override
      public void job(HostJob job) {
        first.job(job);
        second.job(job);
      }

      @Override
      public void flags(FlagsReport report) {
        first.flags(report);
        second.flags(report);
      }

      @Override
      public void health(String agentId, String app, boolean healthy, String line) {
        first.health(agentId, app, healthy, line);
        second.health(agentId, app, healthy, line);
      }

      @Override
      public void downloaded(String agentId, String deploymentId, long bytes, long size) {
        first.downloaded(agentId, deploymentId, bytes, size);
        second.downloaded(agentId, deploymentId, bytes, size);
      }
    };
  }
}
