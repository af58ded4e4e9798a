package io.rackroll.controller.store;

import io.rackroll.proto.v1.LifecyclePhase;
import java.util.List;

/**
 * An app on a host as its agent last reported it, with the last periodic health line.
 *
 * @param configDigest the configuration its current release was installed with, or empty
 */
public record HostApp(String agentId, String app, String currentVersion, String previousVersion,
    List<String> keptVersions, String phase, String health, String configDigest) {
  public HostApp {
    keptVersions = List.copyOf(keptVersions);
  }

  /** Runs {@code version}, finished its last job, and its last health report (if any) was good. */
  public boolean healthyOn(String version) {
    return currentVersion.equals(version) && phase.equals(LifecyclePhase.ACTIVE.name()) && !health.startsWith("UNHEALTHY");
  }
}
