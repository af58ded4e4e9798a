package io.rackroll.agent.install;

import io.rackroll.proto.v1.Facts;
import io.rackroll.release.Manifest.Requirements;
import io.rackroll.release.Sizes;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Checks a release's {@code requires} against the live host before anything is touched. Each
 * refusal names the requirement and what the host has, e.g.
 * {@code needs 2.0 GiB free on /var/lib/rackroll, has 0.7 GiB}.
 */
public final class Preconditions {
  private Preconditions() {}

  /** What the checks read from the host: OSHI's facts plus the JVM's idea of the OS. */
  public record Host(String arch, String os, int logicalCores, long memoryBytes) {
    public static Host of(Facts facts) {
      return new Host(facts.getArch(), os(System.getProperty("os.name", "")), facts.getCpu().getLogicalCores(),
          facts.getMemoryBytes());
    }

    static String os(String osName) {
      String n = osName.toLowerCase(Locale.ROOT);
      return n.contains("linux") ? "linux" : n.contains("windows") ? "windows" : n.contains("mac") ? "macos"
          : n.contains("freebsd") ? "freebsd" : n;
    }
  }

  /**
   * Every requirement the host fails, empty when it can take the release. Free space is read now
   * from the file system holding {@code installRoot}; it must cover {@code minFreeDisk} plus the
   * release's unpacked size.
   */
  public static List<String> refusals(Requirements r, Host host, Path installRoot, long unpackedBytes) throws IOException {
    List<String> out = new ArrayList<>();
    if (!r.arch().isEmpty() && !r.arch().contains(host.arch())) {
      out.add("needs architecture " + String.join(" or ", r.arch()) + ", host is " + host.arch());
    }
    if (!r.os().isEmpty() && !r.os().equals(host.os())) {
      out.add("needs os " + r.os() + ", host runs " + host.os());
    }
    if (r.minCores() > 0 && host.logicalCores() < r.minCores()) {
      out.add("needs " + r.minCores() + " cores, has " + host.logicalCores());
    }
    if (r.minMemoryBytes() > 0 && host.memoryBytes() < r.minMemoryBytes()) {
      out.add("needs " + Sizes.format(r.minMemoryBytes()) + " memory, has " + Sizes.format(host.memoryBytes()));
    }
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
