package io.rackroll.agent.lifecycle;

import io.rackroll.release.Manifest;
import io.rackroll.release.Manifest.HookPoint;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

/**
 * ACTIVATING: the release before gets its {@code deactivate} hook, {@code current} is switched
 * (a new link renamed over the old), then the new release's {@code activate} hook runs. A failed
 * hook rolls the host back.
 */
final class ActivateStep implements Step {
  private final InstalledReleases releases;
  private final HookRunner hooks;
  private final Clock clock;

  ActivateStep(InstalledReleases releases, HookRunner hooks, Clock clock) {
    this.releases = releases;
    this.hooks = hooks;
    this.clock = clock;
  }

  @Override
  public Job run(Job job) throws IOException, InterruptedException {
    try {
      if (!job.previous().isEmpty() && !job.previous().equals(job.version())) {
        Optional<Manifest.Hook> stop = releases.manifest(job.app(), job.previous()).hook(HookPoint.DEACTIVATE);
        if (stop.isPresent()) {
          hooks.run("deactivate", stop.get(), job.app(), job.previous(), releases.releaseDir(job.app(), job.previous()),
              job.previous(), hookLog(job, "deactivate-" + job.previous()));
        }
      }
      releases.switchCurrent(job.app(), job.version());
      Optional<Manifest.Hook> start = releases.manifest(job.app(), job.version()).hook(HookPoint.ACTIVATE);
      if (start.isPresent()) {
        hooks.run("activate", start.get(), job.app(), job.version(), releases.releaseDir(job.app(), job.version()),
            job.previous(), hookLog(job, "activate"));
      }
      return job.to(Phase.CHECKING_HEALTH, clock.millis());
    } catch (HookRunner.HookFailed e) {
      return job.failing(Phase.ROLLING_BACK, e.timedOut ? "hook_timed_out" : "hook_failed", e.getMessage(), clock.millis());
    }
  }

  private Path hookLog(Job job, String hook) throws IOException {
    return releases.hookLog(job.app(), job.version(), hook);
  }
}
