package io.rackroll.agent.artifact;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.LongConsumer;

/** Where the lifecycle gets a verified artifact file from. {@link ArtifactCache} is the real one. */
public interface ArtifactSource {
  /**
   * The verified artifact on local disk; throws {@link ArtifactCache.DownloadException} saying why
   * not. While bytes arrive, {@code progress} is told how many the host holds, now and then.
   */
  Path fetch(String digest, long size, LongConsumer progress) throws IOException;

  /**
   * Forgets every artifact but those of {@code digests} (what the kept releases and unfinished
   * jobs need): the host keeps no bytes nothing will use. A source that keeps nothing ignores it.
   */
  default void keepOnly(java.util.Set<String> digests) throws IOException {}
}
