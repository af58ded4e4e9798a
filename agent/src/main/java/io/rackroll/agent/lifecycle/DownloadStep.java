package io.rackroll.agent.lifecycle;

import io.rackroll.agent.artifact.ArtifactCache.DownloadException;
import io.rackroll.logging.ServiceLogging;
import java.io.IOException;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DOWNLOADING: the artifact into the host's cache, resuming a partial file. An unreachable
 * controller or a corrupt transfer is tried five times with a growing pause; a full disk or a
 * refusal ends the job at once.
 */
final class DownloadStep implements Step {
  private static final Logger log = LoggerFactory.getLogger(DownloadStep.class);
  private static final int ATTEMPTS = 5;

  private final JobArtifact artifact;
  private final Clock clock;

  DownloadStep(JobArtifact artifact, Clock clock) {
    this.artifact = artifact;
    this.clock = clock;
  }

  @Override
  public Job run(Job job) throws InterruptedException {
    int attempt = 0;
    while (true) {
      try {
        artifact.file(job);
        return job.to(Phase.VERIFYING, clock.millis());
      } catch (DownloadException e) {
        switch (e.kind()) {
          case UNREACHABLE, CORRUPT -> {
            if (++attempt >= ATTEMPTS) {
              return job.failing(Phase.FAILED, e.kind() == DownloadException.Kind.CORRUPT ? "verification_failed"
                  : "unreachable", e.getMessage(), clock.millis());
            }
            long pause = Math.min(30_000, 500L << attempt);
            log.atWarn().addKeyValue(ServiceLogging.DEPLOYMENT, job.deploymentId())
                .log("{}@{}: attempt {} of {}: {}; trying again in {} ms", job.app(), job.version(), attempt,
                    ATTEMPTS, e.getMessage(), pause);
            Thread.sleep(pause); // retry pacing between whole attempts
          }
          case DISK_FULL -> {
            return job.failing(Phase.FAILED, "disk_full", e.getMessage(), clock.millis());
          }
          default -> {
            return job.failing(Phase.FAILED, "refused", e.getMessage(), clock.millis());
          }
        }
      } catch (IOException e) {
        return job.failing(Phase.FAILED, HostFiles.diskKind(e), "download of " + job.ref()
            + " failed: " + e.getMessage(), clock.millis());
      }
    }
  }
}
