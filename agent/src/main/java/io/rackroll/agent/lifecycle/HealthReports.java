package io.rackroll.agent.lifecycle;

import io.rackroll.proto.v1.CheckResult;
import io.rackroll.proto.v1.HealthReport;
import io.rackroll.release.Manifest;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/** The periodic health report of an app: one round of its current release's checks, as the wire carries it. */
final class HealthReports {
  private final InstalledReleases releases;
  private final HealthProbe health;
  private final Clock clock;

  HealthReports(InstalledReleases releases, HealthProbe health, Clock clock) {
    this.releases = releases;
    this.health = health;
    this.clock = clock;
  }

  /**
   * One round of the health checks of {@code app}'s current release, whichever way its last job
   * ended (after a failed one, the release the host went back to); empty while a job runs or when
   * nothing is current.
   */
  Optional<HealthReport.Builder> now(String app) throws IOException, InterruptedException {
    Optional<Job> job = releases.job(app);
    Optional<String> current = releases.currentRelease(app);
    if (job.isEmpty() || !job.get().phase().terminal() || current.isEmpty()) {
      return Optional.empty();
    }
    Optional<Manifest> m = releases.manifestIfPresent(app, current.get());
    if (m.isEmpty()) {
      return Optional.empty();
    }
    List<CheckResult> results = health.once(m.get().health(), releases.releaseDir(app, current.get()));
    return Optional.of(HealthReport.newBuilder().setApp(app).setVersion(Releases.versionOf(current.get()))
        .setHealthy(results.stream().allMatch(CheckResult::getOk)).addAllChecks(results)
        .setAtEpochMillis(clock.millis()));
  }
}
