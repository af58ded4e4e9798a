package io.rackroll.controller.store;

import java.time.Instant;
import java.util.List;

/** What one host reported about one app's lifecycle (the agent's JobUpdate, as stored). */
public record HostJob(String agentId, String deploymentId, String app, String version, String phase, String failureKind,
    String failure, String currentVersion, String previousVersion, List<String> keptVersions, Instant at) {
  public HostJob {
    keptVersions = List.copyOf(keptVersions);
  }
}
