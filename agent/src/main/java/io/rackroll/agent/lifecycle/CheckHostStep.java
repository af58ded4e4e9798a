package io.rackroll.agent.lifecycle;

import io.rackroll.release.HostFit;
import io.rackroll.agent.install.Preconditions;
import io.rackroll.release.Artifact;
import io.rackroll.release.ManifestException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.function.Supplier;

/** CHECKING_HOST: the manifest's {@code requires} against this host's facts and free space. */
final class CheckHostStep implements Step {
  private final JobArtifact artifact;
  private final Supplier<HostFit.Host> host;
  private final Path apps;
  private final Clock clock;

  CheckHostStep(JobArtifact artifact, Supplier<HostFit.Host> host, Path apps, Clock clock) {
    this.artifact = artifact;
    this.host = host;
    this.apps = apps;
    this.clock = clock;
  }

  @Override
  public Job run(Job job) throws IOException {
    Artifact a;
    try {
      a = artifact.inspected(job);
    } catch (ManifestException e) {
      throw new IOException(e.getMessage(), e);
    }
    List<String> refusals = Preconditions.refusals(a.manifest().requires(), host.get(), apps, a.unpackedBytes());
    return refusals.isEmpty() ? job.to(Phase.INSTALLING, clock.millis())
        : job.failing(Phase.FAILED, "refused", String.join("; ", refusals), clock.millis());
  }
}
