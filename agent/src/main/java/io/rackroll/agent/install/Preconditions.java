package io.rackroll.agent.install;

import io.rackroll.release.HostFit;
import io.rackroll.release.Manifest.Requirements;
import io.rackroll.release.Sizes;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks a release's {@code requires} against the live host before anything is touched: what
 * {@link HostFit} checks, and the free space its unpacking needs. Each
 * refusal names the requirement and what the host has, e.g.
 * {@code needs 2.0 GiB free on /var/lib/rackroll, has 0.7 GiB}.
 */
public final class Preconditions {
  private Preconditions() {}

  /**
   * Every requirement the host fails, empty when it can take the release. Free space is read now
   * from the file system holding {@code installRoot}; it must cover {@code minFreeDisk} plus the
   * release's unpacked size.
   */
  public static List<String> refusals(Requirements r, HostFit.Host host, Path installRoot, long unpackedBytes)
      throws IOException {
    List<String> out = new ArrayList<>(HostFit.unmet(r, host));
    Path existing = installRoot;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing != null) {
      FileStore fs = Files.getFileStore(existing);
      long need = r.minFreeDiskBytes() + unpackedBytes;
      long free = fs.getUsableSpace();
      if (free < need) {
        out.add("needs " + Sizes.format(need) + " free on " + installRoot + ", has " + Sizes.format(free));
      }
    }
    return out;
  }
}
