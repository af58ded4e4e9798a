package io.rackroll.controller.store;

import io.rackroll.release.Manifest;
import io.rackroll.release.ManifestException;
import java.time.Instant;

/**
 * One pushed release: name@version and the artifact (by SHA-256) it is made of, with what the
 * artifact unpacks to (bytes of its files, entries), the most any host will unpack from it.
 */
public record StoredRelease(String name, String version, String digest, long sizeBytes, long unpackedBytes,
    long unpackedEntries, String manifest, String pushedBy, Instant pushedAt) {
  public String ref() {
    return name + "@" + version;
  }

  /** The manifest's {@code requires}: what a host must be to take this release. */
  public Manifest.Requirements requires() {
    try {
      return Manifest.parse(manifest).requires();
    } catch (ManifestException e) {
      // Checked at push, so only a manifest edited in the database gets here.
      throw new IllegalStateException("the stored manifest of " + ref() + " no longer parses: " + e.getMessage(), e);
    }
  }
}
