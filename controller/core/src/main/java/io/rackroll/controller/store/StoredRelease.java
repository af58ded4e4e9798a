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

  /**
   * The manifest's {@code requires}: what a host must be to take this release. A manifest this
   * controller no longer reads (pushed by an older one, under rules since made stricter) requires
   * nothing here: the host still checks the manifest it unpacks.
   */
  public Manifest.Requirements requires() {
    try {
      return Manifest.parse(manifest).requires();
    } catch (ManifestException e) {
      return Manifest.Requirements.NONE;
    }
  }
}
