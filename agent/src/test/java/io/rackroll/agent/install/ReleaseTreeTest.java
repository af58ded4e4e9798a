package io.rackroll.agent.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's own reads, writes and executions inside a release, against trees that a hook (or
 * anything after the unpack) may have changed: links are followed only while they stay inside,
 * and writes never follow one.
 */
class ReleaseTreeTest {
  @TempDir Path dir;
  private Path release;
  private Path outside;

  @BeforeEach
  void setUp() throws Exception {
    release = Files.createDirectories(dir.resolve("apps/web/releases/1"));
    outside = Files.writeString(dir.resolve("outside.txt"), "untouched");
    Files.createDirectories(release.resolve("etc/app"));
    Files.writeString(release.resolve("etc/app/site.conf"), "greeting=${greeting}");
  }

  @Test
  void resolvesLinksThatStayInsideAndRefusesEveryWayOut() throws Exception {
    Files.createSymbolicLink(release.resolve("conf"), Path.of("etc/app"));
    Files.createSymbolicLink(release.resolve("etc/up"), Path.of(".."));
    assertThat(ReleaseTree.resolve(release, "conf/site.conf")).isEqualTo(release.toRealPath().resolve("etc/app/site.conf"));
    assertThat(ReleaseTree.resolve(release, "etc/up/conf/site.conf")).isEqualTo(release.toRealPath().resolve("etc/app/site.conf"));

    // Each link alone looks harmless; through etc/up, ".." is the release's parent.
    Files.createSymbolicLink(release.resolve("etc/app/esc"), Path.of("../up/../outside.txt"));
    assertThatThrownBy(() -> ReleaseTree.resolve(release, "etc/app/esc"))
        .isInstanceOf(Unpacker.UnsafeArchiveException.class).hasMessageContaining("leads outside the release");
    Files.createSymbolicLink(release.resolve("abs"), dir.resolve("outside.txt"));
    assertThatThrownBy(() -> ReleaseTree.resolve(release, "abs")).hasMessageContaining("a link outside the release");
    Files.createSymbolicLink(release.resolve("loop1"), Path.of("loop2"));
    Files.createSymbolicLink(release.resolve("loop2"), Path.of("loop1"));
    assertThatThrownBy(() -> ReleaseTree.resolve(release, "loop1")).hasMessageContaining("links loop");
    assertThatThrownBy(() -> ReleaseTree.resolve(release, "nothing/here")).hasMessageContaining("leads to nothing");
  }

  @Test
  void writesNeverFollowALinkAndKeepTheModeAskedFor() throws Exception {
    Files.createSymbolicLink(release.resolve("conf"), Path.of("etc/app"));
    Files.createSymbolicLink(release.resolve("etc/app/out.conf"), outside);
    assertThatThrownBy(() -> ReleaseTree.write(release, "conf/site.conf", bytes("x"), OWNER_ONLY))
        .hasMessageContaining("the agent does not write through links (conf is a link)");
    assertThatThrownBy(() -> ReleaseTree.write(release, "etc/app/out.conf", bytes("x"), OWNER_ONLY))
        .hasMessageContaining("(etc/app/out.conf is a link)");
    assertThatThrownBy(() -> ReleaseTree.readString(release, "etc/app/out.conf"))
        .hasMessageContaining("the agent does not read through links");
    assertThatThrownBy(() -> ReleaseTree.write(release, "../../outside.txt", bytes("x"), OWNER_ONLY))
        .hasMessageContaining("is not a file inside the release");
    assertThat(outside).hasContent("untouched");

    Path written = ReleaseTree.write(release, "etc/app/site.conf", bytes("greeting=hi"), OWNER_ONLY);
    assertThat(written).hasContent("greeting=hi");
    assertThat(Files.getPosixFilePermissions(written)).isEqualTo(OWNER_ONLY);
    assertThat(Files.getPosixFilePermissions(ReleaseTree.write(release, "etc/app/site.conf", bytes("y"),
        PosixFilePermissions.fromString("rw-r-----")))).isEqualTo(PosixFilePermissions.fromString("rw-r-----"));
  }

  @Test
  void unpackedLinksThatEscapeOnlyOnDiskAreRefusedWhateverTheirOrder() throws Exception {
    Files.createDirectories(release.resolve("s"));
    // Entry order as a hostile archive would have it: the escaping link first, the link it passes through after.
    Files.createSymbolicLink(release.resolve("x"), Path.of("s/up/../etc/passwd"));
    Files.createSymbolicLink(release.resolve("s/up"), Path.of(".."));
    assertThatThrownBy(() -> ReleaseTree.checkLinks(release))
        .hasMessage("artifact entry \"x\" refused: leads outside the release (through s/up/../etc/passwd)");
  }

  private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
