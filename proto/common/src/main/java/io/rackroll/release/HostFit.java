package io.rackroll.release;

import io.rackroll.proto.v1.Facts;
import io.rackroll.release.Manifest.Requirements;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A release's {@code requires} against what a host is: architecture, operating system, cores and
 * memory. One check, run by the controller on each host's reported facts when it plans, and by
 * the host on its live facts before it downloads. What a host did not report (an older agent) is
 * not held against it: the host checks again itself. Free disk space changes by the minute, so
 * only the host checks it ({@code Preconditions} in the agent).
 */
public final class HostFit {
  private HostFit() {}

  /** What the checks read of a host; "" and 0 stand for "not reported". */
  public record Host(String arch, String os, int logicalCores, long memoryBytes) {
    public static Host of(Facts facts) {
      return new Host(facts.getArch(), facts.getOs().getKind(), facts.getCpu().getLogicalCores(), facts.getMemoryBytes());
    }
  }

  /** Every requirement {@code host} fails, each naming what it needs and what the host has. */
  public static List<String> unmet(Requirements r, Host host) {
    List<String> out = new ArrayList<>();
    if (!r.arch().isEmpty() && known(host.arch()) && !r.arch().contains(host.arch())) {
      out.add("needs architecture " + String.join(" or ", r.arch()) + ", host is " + host.arch());
    }
    if (!r.os().isEmpty() && known(host.os()) && !r.os().equals(host.os())) {
      out.add("needs os " + r.os() + ", host runs " + host.os());
    }
    if (r.minCores() > 0 && host.logicalCores() > 0 && host.logicalCores() < r.minCores()) {
      out.add("needs " + r.minCores() + " cores, has " + host.logicalCores());
    }
    if (r.minMemoryBytes() > 0 && host.memoryBytes() > 0 && host.memoryBytes() < r.minMemoryBytes()) {
      out.add("needs " + Sizes.format(r.minMemoryBytes()) + " memory, has " + Sizes.format(host.memoryBytes()));
    }
    return out;
  }

  private static boolean known(String value) {
    return !value.isEmpty() && !value.equals("unknown");
  }

  /** The {@code requires.os} name of a JVM's {@code os.name}: linux, windows, macos, freebsd. */
  public static String osKind(String osName) {
    String n = osName.toLowerCase(Locale.ROOT);
    return n.contains("linux") ? "linux" : n.contains("windows") ? "windows" : n.contains("mac") ? "macos"
        : n.contains("freebsd") ? "freebsd" : n;
  }

  public static io.rackroll.proto.v1.Requirements toWire(Requirements r) {
    return io.rackroll.proto.v1.Requirements.newBuilder().addAllArch(r.arch()).setOs(r.os()).setMinCores(r.minCores())
        .setMinMemoryBytes(r.minMemoryBytes()).setMinFreeDiskBytes(r.minFreeDiskBytes()).build();
  }

  public static Requirements fromWire(io.rackroll.proto.v1.Requirements r) {
    return new Requirements(r.getArchList(), r.getOs(), r.getMinCores(), r.getMinMemoryBytes(), r.getMinFreeDiskBytes());
  }
}
