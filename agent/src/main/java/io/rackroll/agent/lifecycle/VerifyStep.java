package io.rackroll.agent.lifecycle;

import io.rackroll.release.Artifact;
import io.rackroll.release.ManifestException;
import java.io.IOException;
import java.time.Clock;

/**
 * VERIFYING: the artifact's digest (checked as it is fetched) and its manifest, read within the
 * limits recorded at push, must name the release the job installs.
 */
final class VerifyStep implements Step {
  private final JobArtifact artifact;
  private final Clock clock;

  VerifyStep(JobArtifact artifact, Clock clock) {
    this.artifact = artifact;
    this.clock = clock;
  }

  @Override
  public Job run(Job job) throws IOException {
    long now = clock.millis();
    try {
      Artifact a = artifact.inspected(job);
      if (!a.manifest().name().equals(job.app()) || !a.manifest().version().equals(Releases.versionOf(job.version()))) {
        return job.failing(Phase.FAILED, "verification_failed", "artifact " + job.digest().substring(0, 12)
            + "… holds " + a.manifest().ref() + ", not " + job.ref(), now);
      }
      return job.to(Phase.CHECKING_HOST, now);
    } catch (ManifestException e) {
      return job.failing(Phase.FAILED, "verification_failed", e.getMessage(), now);
    }
  }
}
