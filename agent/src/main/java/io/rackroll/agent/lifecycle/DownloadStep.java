package io.rackroll.agent.lifecycle;

import io.rackroll.agent.artifact.ArtifactCache.DownloadException;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.wire.Durations;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DOWNLOADING: the artifact into the host's cache, resuming a partial file.
 *
 * <p>An unreachable controller is waited for as long as it takes, with a pause growing to
 * {@link #MAX_PAUSE}: the controller is away (restarting, upgrading, cut off), and only it can
 * judge this host slow (its host timeout); a host that gave up by itself would count its
 * controller's outage against the deployment's failure budget. A stop of the agent ends the wait
 * at once and leaves the job to the restart. A corrupt transfer is tried {@link #CORRUPT_ATTEMPTS}
 * times; a full disk or a refusal ends the job at once.
 */
final class DownloadStep implements Step {
  private static final Logger log = LoggerFactory.getLogger(DownloadStep.class);
  static final int CORRUPT_ATTEMPTS = 5;
  static final Duration MAX_PAUSE = Duration.ofSeconds(30);

  /** Waits between two attempts; true when the agent is stopping and the job must be left as it is. */
  @FunctionalInterface
  interface Pause {
    boolean stoppedDuring(Duration pause) throws InterruptedException;
  }

  private final JobArtifact artifact;
  private final Clock clock;
  private final Pause pause;

  DownloadStep(JobArtifact artifact, Clock clock, Pause pause) {
    this.artifact = artifact;
    this.clock = clock;
    this.pause = pause;
  }

  @Override
  public Job run(Job job) throws InterruptedException {
    int attempt = 0;
    int corrupt = 0;
    while (true) {
      try {
        artifact.file(job);
        if (attempt > 0) {
          log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, job.deploymentId())
              .log("{}: downloaded after {} failed attempts", job.ref(), attempt);
        }
        return job.to(Phase.VERIFYING, clock.millis());
      } catch (DownloadException e) {
        switch (e.kind()) {
          case UNREACHABLE, CORRUPT -> {
            attempt++;
            if (e.kind() == DownloadException.Kind.CORRUPT && ++corrupt >= CORRUPT_ATTEMPTS) {
              return job.failing(Phase.FAILED, "verification_failed", e.getMessage() + " (" + corrupt
                  + " times; giving up)", clock.millis());
            }
            Duration wait = pauseAfter(attempt);
            log.atLevel(attempt == 1 ? org.slf4j.event.Level.WARN : org.slf4j.event.Level.INFO)
                .addKeyValue(ServiceLogging.DEPLOYMENT, job.deploymentId())
                .log("{}: download attempt {} failed: {}; trying again in {}", job.ref(), attempt, e.getMessage(),
                    Durations.format(wait));
            if (pause.stoppedDuring(wait)) {
              return job; // still DOWNLOADING: the runner records the stop, the restart goes on
            }
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

  /** 1 s after the first failure, doubling up to {@link #MAX_PAUSE}. */
  static Duration pauseAfter(int attempt) {
    return Duration.ofMillis(Math.min(MAX_PAUSE.toMillis(), 500L << Math.min(attempt, 16)));
  }
}
