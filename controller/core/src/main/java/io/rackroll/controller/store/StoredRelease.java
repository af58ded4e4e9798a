package io.rackroll.controller.store;

import io.rackroll.release.Manifest;
import io.rackroll.release.ManifestException;
import io.rackroll.trust.ReleaseSignature;
import java.time.Instant;
import java.util.Optional;

/**
 * One pushed release: name@version and the artifact (by SHA-256) it is made of, with what the
 * artifact unpacks to (bytes of its files, entries), the most any host will unpack from it, and
 * its detached signature ({@code rackroll release sign}; empty: unsigned).
 */
public record StoredRelease(String name, String version, String digest, long sizeBytes, long unpackedBytes,
    long unpackedEntries, String manifest, String pushedBy, Instant pushedAt, String signature) {
  public StoredRelease(String name, String version, String digest, long sizeBytes, long unpackedBytes,
      long unpackedEntries, String manifest, String pushedBy, Instant pushedAt) {
    this(name, version, digest, sizeBytes, unpackedBytes, unpackedEntries, manifest, pushedBy, pushedAt, "");
  }

  /** The signature, read; empty when unsigned (or unreadable, which hosts refuse like unsigned). */
  public Optional<ReleaseSignature> signed() {
    try {
      return signature.isEmpty() ? Optional.empty() : Optional.of(ReleaseSignature.parse(signature));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

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
