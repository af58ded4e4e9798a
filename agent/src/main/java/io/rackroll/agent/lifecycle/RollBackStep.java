package io.rackroll.agent.lifecycle;

import io.rackroll.logging.ServiceLogging;
import io.rackroll.release.Manifest;
import io.rackroll.release.Manifest.HookPoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ROLLING_BACK: the failed release's {@code deactivate} hook first, then {@code current} back to
 * the release before, its {@code activate} hook, and its health checks must pass (ROLLED_BACK);
 * with nothing to go back to, no {@code current} is left (FAILED). Idempotent, so recovery simply
 * runs it again.
 */
final class RollBackStep implements Step {
  private static final Logger log = LoggerFactory.getLogger(RollBackStep.class);

  private final InstalledReleases releases;
  private final HookRunner hooks;
  private final HealthProbe health;
  private final Clock clock;

  RollBackStep(InstalledReleases releases, HookRunner hooks, HealthProbe health, Clock clock) {
    this.releases = releases;
    this.hooks = hooks;
    this.health = health;
    this.clock = clock;
  }

  @Override
  public Job run(Job job) throws IOException, InterruptedException {
    String app = job.app();
    // First stop the failed release: whatever its activate started must not run beside the one restored.
    String stopped = deactivateFailed(job);
    if (job.previous().isEmpty() || job.previous().equals(job.version())
        || !Files.isDirectory(releases.releaseDir(app, job.previous()))) {
      // Nothing to go back to: leave no current, so nothing half-switched runs.
      Files.deleteIfExists(releases.layout().current(app));
      HostFiles.syncDir(releases.layout().app(app));
      return job.failing(Phase.FAILED, job.failureKind(), job.failure() + stopped
          + "; no previous release to roll back to", clock.millis());
    }
    try {
      releases.switchCurrent(app, job.previous());
      Manifest previous = releases.manifest(app, job.previous());
      Optional<Manifest.Hook> start = previous.hook(HookPoint.ACTIVATE);
      if (start.isPresent()) {
        hooks.run("activate", start.get(), app, job.previous(), releases.releaseDir(app, job.previous()), job.version(),
            hookLog(job, "activate-" + job.previous()));
      }
      HealthProbe.Verdict v = health.await(previous.health(), releases.releaseDir(app, job.previous()));
      if (!v.healthy()) {
        return job.failing(Phase.FAILED, "rollback_failed", job.failure() + stopped + "; rolled back to "
            + job.previous() + " but it is not healthy either: " + v.detail(), clock.millis());
      }
      return job.failing(Phase.ROLLED_BACK, job.failureKind(), job.failure() + stopped + "; rolled back to "
          + job.previous(), clock.millis());
    } catch (HookRunner.HookFailed e) {
      return job.failing(Phase.FAILED, "rollback_failed", job.failure() + stopped + "; rollback to " + job.previous()
          + " failed: " + e.getMessage(), clock.millis());
    }
  }

  /**
   * Runs the failed release's {@code deactivate} hook, within its timeout, when it has one: its
   * {@code activate} may have started something (it may also not have run at all: a deactivate
   * hook must cope with that). A failure is reported in the job's reason, never fatal: the host
   * goes back to its release before either way. Empty when it ran cleanly or there is none.
   */
  private String deactivateFailed(Job job) throws IOException, InterruptedException {
    String app = job.app();
    if (!Files.isDirectory(releases.releaseDir(app, job.version()))) {
      return "";
    }
    Optional<Manifest.Hook> stop = releases.manifestIfPresent(app, job.version())
        .flatMap(m -> m.hook(HookPoint.DEACTIVATE));
    if (stop.isEmpty()) {
      return "";
    }
    try {
      hooks.run("deactivate", stop.get(), app, job.version(), releases.releaseDir(app, job.version()), job.previous(),
          hookLog(job, "deactivate"));
      return "";
    } catch (HookRunner.HookFailed e) {
      log.atWarn().addKeyValue(ServiceLogging.DEPLOYMENT, job.deploymentId())
          .log("{}@{}: {}", app, job.version(), e.getMessage());
      return "; " + e.getMessage();
    }
  }

  private Path hookLog(Job job, String hook) throws IOException {
    return releases.hookLog(job.app(), job.version(), hook);
  }
}
