package io.rackroll.agent.lifecycle;

import io.rackroll.agent.artifact.ArtifactSource;
import io.rackroll.release.Artifact;
import io.rackroll.release.ManifestException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The artifact of the job being run, verified (downloaded if need be) and inspected once per job,
 * not once per step. {@link #reset} when a job starts: every job verifies afresh. Confined to the
 * thread running jobs.
 */
final class JobArtifact {
  private final ArtifactSource artifacts;
  private final Lifecycle.Listener listener;
  private String verifiedDigest;
  private Path verifiedPath;
  private Artifact inspected;

  JobArtifact(ArtifactSource artifacts, Lifecycle.Listener listener) {
    this.artifacts = artifacts;
    this.listener = listener;
  }

  void reset() {
    verifiedDigest = null;
    inspected = null;
  }

  /** The job's artifact file, its digest checked; a download's progress is told to the listener. */
  Path file(Job job) throws IOException {
    if (!job.digest().equals(verifiedDigest)) {
      verifiedPath = artifacts.fetch(job.digest(), job.size(), bytes -> listener.downloaded(job, bytes));
      verifiedDigest = job.digest();
      inspected = null;
    }
    return verifiedPath;
  }

  /** What the artifact holds (its manifest, its unpacked size), within the job's limits. */
  Artifact inspected(Job job) throws IOException, ManifestException {
    Path file = file(job);
    if (inspected == null) {
      inspected = Artifact.inspect(file, job.unpackLimits());
    }
    return inspected;
  }
}
