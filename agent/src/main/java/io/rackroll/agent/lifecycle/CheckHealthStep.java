package io.rackroll.agent.lifecycle;

import io.rackroll.release.Manifest;
import java.io.IOException;
import java.time.Clock;

/**
 * CHECKING_HEALTH: the release's health checks until they pass or the manifest's time runs out.
 * Healthy, it is ACTIVE; else the host rolls back.
 */
final class CheckHealthStep implements Step {
  private final InstalledReleases releases;
  private final HealthProbe health;
  private final Clock clock;

  CheckHealthStep(InstalledReleases releases, HealthProbe health, Clock clock) {
    this.releases = releases;
    this.health = health;
    this.clock = clock;
  }

  @Override
  public Job run(Job job) throws IOException, InterruptedException {
    Manifest m = releases.manifest(job.app(), job.version());
    HealthProbe.Verdict v = health.await(m.health(), releases.releaseDir(job.app(), job.version()));
    if (v.healthy()) {
      return job.to(Phase.ACTIVE, clock.millis());
    }
    return job.failing(Phase.ROLLING_BACK, "health_failed", job.ref() + " " + v.detail(), clock.millis());
  }
}
