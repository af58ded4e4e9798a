package io.rackroll.agent.artifact;

import java.io.IOException;
import java.nio.file.Path;

/** Where the lifecycle gets a verified artifact file from. {@link ArtifactCache} is the real one. */
public interface ArtifactSource {
  /** The verified artifact on local disk; throws {@link ArtifactCache.DownloadException} saying why not. */
  Path fetch(String digest, long size) throws IOException;
}
