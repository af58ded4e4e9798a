package io.rackroll.controller.store;

import java.time.Instant;
import java.util.List;

/**
 * What one host reported about one app's lifecycle (the agent's JobUpdate, as stored).
 *
 * @param configDigest the configuration digest its current release was installed with, or empty
 */
public record HostJob(String agentId, String deploymentId, String app, String version, String phase, String failureKind,
    String failure, String currentVersion, String previousVersion, List<String> keptVersions, Instant at,
    String configDigest) {
  public HostJob {
    keptVersions = List.copyOf(keptVersions);
  }

  public HostJob(String agentId, String deploymentId, String app, String version, String phase, String failureKind,
      String failure, String currentVersion, String previousVersion, List<String> keptVersions, Instant at) {
    this(agentId, deploymentId, app, version, phase, failureKind, failure, currentVersion, previousVersion,
        keptVersions, at, "");
  }
}
