package io.rackroll.controller.store;

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
}
