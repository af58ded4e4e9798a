package io.rackroll.release;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.proto.v1.Cpu;
import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.OperatingSystem;
import io.rackroll.release.HostFit.Host;
import io.rackroll.release.Manifest.Requirements;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostFitTest {
  private static final Requirements BIG = new Requirements(List.of("aarch64"), "windows", 64, 1L << 40, 1L << 30);

  @Test
  void everyShortfallIsNamedWithWhatTheHostHas() {
    assertThat(HostFit.unmet(BIG, new Host("x86_64", "linux", 2, 4L << 30))).containsExactly(
        "needs architecture aarch64, host is x86_64",
        "needs os windows, host runs linux",
        "needs 64 cores, has 2",
        "needs 1.0 TiB memory, has 4.0 GiB");
    assertThat(HostFit.unmet(Requirements.NONE, new Host("x86_64", "linux", 2, 4L << 30))).isEmpty();
  }

  @Test
  void whatAHostDidNotReportIsNotHeldAgainstIt() {
    // An older agent reports no os kind; a failed OSHI probe reports "unknown" and zeros.
    assertThat(HostFit.unmet(BIG, new Host("unknown", "", 0, 0))).isEmpty();
    Facts older = Facts.newBuilder().setArch("x86_64").setCpu(Cpu.newBuilder().setLogicalCores(128))
        .setMemoryBytes(2L << 40).setOs(OperatingSystem.newBuilder().setFamily("Debian GNU/Linux")).build();
    assertThat(HostFit.unmet(BIG, Host.of(older))).containsExactly("needs architecture aarch64, host is x86_64");
  }

  @Test
  void requirementsCrossTheWireUnchanged() {
    assertThat(HostFit.fromWire(HostFit.toWire(BIG))).isEqualTo(BIG);
    assertThat(HostFit.fromWire(io.rackroll.proto.v1.Requirements.getDefaultInstance())).isEqualTo(Requirements.NONE);
  }

  @Test
  void osNamesAreNormalized() {
    assertThat(HostFit.osKind("Linux")).isEqualTo("linux");
    assertThat(HostFit.osKind("Windows Server 2022")).isEqualTo("windows");
    assertThat(HostFit.osKind("Mac OS X")).isEqualTo("macos");
    assertThat(HostFit.osKind("FreeBSD")).isEqualTo("freebsd");
  }
}
