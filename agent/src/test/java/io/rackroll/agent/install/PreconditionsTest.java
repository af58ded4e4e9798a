package io.rackroll.agent.install;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.agent.testing.Tmpfs;
import io.rackroll.release.HostFit.Host;
import io.rackroll.release.Manifest.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreconditionsTest {
  @TempDir Path dir;
  private static final Host HOST = new Host("x86_64", "linux", 2, 4L << 30);

  @Test
  void aHostThatFitsHasNoRefusals() throws Exception {
    Requirements r = new Requirements(List.of("x86_64", "aarch64"), "linux", 2, 1L << 30, 1 << 20);
    assertThat(Preconditions.refusals(r, HOST, dir.resolve("apps"), 1000)).isEmpty();
    assertThat(Preconditions.refusals(Requirements.NONE, HOST, dir, 0)).isEmpty();
  }

  @Test
  void everyShortfallIsNamedWithWhatTheHostHas() throws Exception {
    Requirements r = new Requirements(List.of("aarch64"), "windows", 64, 1L << 40, 0);
    assertThat(Preconditions.refusals(r, HOST, dir, 0)).containsExactly(
        "needs architecture aarch64, host is x86_64",
        "needs os windows, host runs linux",
        "needs 64 cores, has 2",
        "needs 1.0 TiB memory, has 4.0 GiB");
  }

  @Test
  void freeSpaceIsReadFromTheRealFileSystemAndCountsTheUnpackedSize() throws Exception {
    try (Tmpfs tmpfs = Tmpfs.mount(dir.resolve("small"), "1m")) {
      Path small = tmpfs.dir;
      Requirements halfMeg = new Requirements(List.of(), "", 0, 0, 512 * 1024);
      assertThat(Preconditions.refusals(halfMeg, HOST, small.resolve("apps"), 0)).isEmpty();
      assertThat(Preconditions.refusals(halfMeg, HOST, small.resolve("apps"), 700 * 1024))
          .containsExactly("needs 1.2 MiB free on " + small.resolve("apps") + ", has 1.0 MiB");
    }
  }
}
