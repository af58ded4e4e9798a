package io.rackroll.agent.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.release.UnpackLimits;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One crafted archive per refusal, plus the archive a real release is. */
class UnpackerTest {
  @TempDir Path dir;

  /** Builds a .tar.gz from entries described by the test; each writer adds one entry. */
  private interface EntryWriter {
    void write(TarArchiveOutputStream tar) throws Exception;
  }

  private Path archive(EntryWriter... entries) throws Exception {
    Path out = dir.resolve("a" + System.nanoTime() + ".tar.gz");
    try (OutputStream file = Files.newOutputStream(out);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(file))) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (EntryWriter e : entries) {
        e.write(tar);
      }
    }
    return out;
  }

  private static EntryWriter file(String name, String content, int mode) {
    return tar -> {
      byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
      TarArchiveEntry e = new TarArchiveEntry(name, true); // keep a leading '/', as a hostile tar would
      e.setSize(bytes.length);
      e.setMode(0100000 | mode);
      tar.putArchiveEntry(e);
      tar.write(bytes);
      tar.closeArchiveEntry();
    };
  }

  private static EntryWriter special(String name, byte type, String linkTarget) {
    return tar -> {
      TarArchiveEntry e = new TarArchiveEntry(name, type);
      if (linkTarget != null) {
        e.setLinkName(linkTarget);
      }
      tar.putArchiveEntry(e);
      tar.closeArchiveEntry();
    };
  }

  @Test
  void unpacksAReleaseKeepingExecutableBitsAndInnerLinks() throws Exception {
    Path a = archive(file("rackroll.yaml", "name: web\n", 0644), file("hooks/start.sh", "#!/bin/sh\n", 0750),
        special("current-config", TarArchiveEntry.LF_SYMLINK, "hooks/start.sh"));
    Path target = dir.resolve("releases/1.0.0");

    long bytes = Unpacker.unpack(a, target);

    assertThat(bytes).isEqualTo(20);
    assertThat(target.resolve("rackroll.yaml")).hasContent("name: web");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target.resolve("hooks/start.sh")))).isEqualTo("rwxr-xr-x");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target.resolve("rackroll.yaml")))).isEqualTo("rw-r--r--");
    assertThat(Files.readSymbolicLink(target.resolve("current-config"))).isEqualTo(Path.of("hooks/start.sh"));
  }

  @Test
  void refusesAbsolutePaths() throws Exception {
    assertRefused(archive(file("/etc/cron.d/evil", "x", 0644)), "\"/etc/cron.d/evil\" refused: absolute paths are not allowed");
  }

  @Test
  void refusesDotDot() throws Exception {
    assertRefused(archive(file("hooks/../../outside.txt", "x", 0644)), "\"hooks/../../outside.txt\" refused: '..' is not allowed");
  }

  @Test
  void refusesLinksThatEscape() throws Exception {
    assertRefused(archive(special("etc", TarArchiveEntry.LF_SYMLINK, "/etc")),
        "\"etc\" refused: links must be relative and stay inside the release (points to /etc)");
    assertRefused(archive(special("up", TarArchiveEntry.LF_SYMLINK, "../../..")),
        "\"up\" refused: link points outside the release (../../..)");
  }

  @Test
  void refusesAChainOfLinksThatEachLookInsideButLeadOutOnDisk() throws Exception {
    // d/up -> .. is the release itself; through it, d/up/.. is the release's parent, though the text
    // "d/up/../outside.txt" normalizes to d/outside.txt. The escaping link comes first in the archive.
    assertRefused(archive(special("esc", TarArchiveEntry.LF_SYMLINK, "d/up/../../outside.txt"),
        file("d/keep", "x", 0644), special("d/up", TarArchiveEntry.LF_SYMLINK, "..")),
        "\"esc\" refused: leads outside the release");
    assertRefused(archive(file("a/b/c", "x", 0644), special("a/b/up2", TarArchiveEntry.LF_SYMLINK, "../.."),
        special("a/root", TarArchiveEntry.LF_SYMLINK, "b/up2"), special("a/esc", TarArchiveEntry.LF_SYMLINK, "root/..")),
        "\"a/esc\" refused: leads outside the release");
  }

  @Test
  void refusesLinkLoopsAndLinksToNothing() throws Exception {
    assertRefused(archive(special("a", TarArchiveEntry.LF_SYMLINK, "b"), special("b", TarArchiveEntry.LF_SYMLINK, "a")),
        "links loop");
    assertRefused(archive(special("a", TarArchiveEntry.LF_SYMLINK, "missing/file")), "leads to nothing");
  }

  @Test
  void keepsLinksToDirectoriesAndChainsThatStayInside() throws Exception {
    Path target = dir.resolve("releases/1");
    Unpacker.unpack(archive(file("lib64/libx.so", "elf", 0755), special("lib", TarArchiveEntry.LF_SYMLINK, "lib64"),
        special("bin/up", TarArchiveEntry.LF_SYMLINK, ".."), special("bin/libx", TarArchiveEntry.LF_SYMLINK, "up/lib/libx.so")),
        target);
    assertThat(target.resolve("bin/libx")).hasContent("elf");
  }

  @Test
  void stopsAtTheRecordedSizeWhateverTheArchiveClaims() throws Exception {
    Path a = archive(file("rackroll.yaml", "name: web\n", 0644), file("big", "x".repeat(4096), 0644));
    assertThatThrownBy(() -> Unpacker.unpack(a, dir.resolve("t1"), new UnpackLimits(1024, 10, 0, "recorded")))
        .isInstanceOf(Unpacker.UnsafeArchiveException.class).hasMessage("artifact unpacks to more than 1.0 KiB (recorded)");
    assertThatThrownBy(() -> Unpacker.unpack(a, dir.resolve("t2"), new UnpackLimits(1 << 20, 1, 0, "recorded")))
        .hasMessage("artifact holds more than 1 entries (recorded)");
    assertThat(Unpacker.unpack(a, dir.resolve("t3"), new UnpackLimits(4106, 2, 0, "recorded"))).isEqualTo(4106);
  }

  @Test
  void refusesWritingThroughALinkUnpackedEarlier() throws Exception {
    assertRefused(archive(special("dir", TarArchiveEntry.LF_SYMLINK, "."), file("dir/x", "x", 0644)),
        "\"dir/x\" refused: would be written through the link dir");
  }

  @Test
  void refusesDevicesFifosAndHardLinks() throws Exception {
    assertRefused(archive(special("dev/sda", TarArchiveEntry.LF_BLK, null)), "device files are not allowed");
    assertRefused(archive(special("null", TarArchiveEntry.LF_CHR, null)), "device files are not allowed");
    assertRefused(archive(special("pipe", TarArchiveEntry.LF_FIFO, null)), "FIFOs are not allowed");
    assertRefused(archive(file("a", "x", 0644), special("b", TarArchiveEntry.LF_LINK, "a")), "hard links are not allowed");
  }

  @Test
  void refusesDuplicateEntries() throws Exception {
    assertRefused(archive(file("a", "1", 0644), file("a", "2", 0644)), "\"a\" refused: appears twice");
    // Found by hand: a file, then a link of the same name, was "not a readable .tar.gz: <path>".
    assertRefused(archive(file("t.conf", "x", 0644), special("t.conf", TarArchiveEntry.LF_SYMLINK, "rackroll.yaml")),
        "\"t.conf\" refused: appears twice");
    assertRefused(archive(file("d", "x", 0644), special("d/", TarArchiveEntry.LF_DIR, null)), "\"d/\" refused: appears twice");
  }

  @Test
  void notAnArchiveSaysSo() throws Exception {
    Path junk = Files.writeString(dir.resolve("junk.tar.gz"), "junk");
    assertThatThrownBy(() -> Unpacker.unpack(junk, dir.resolve("t"))).hasMessageStartingWith("artifact is not a readable .tar.gz");
  }

  private void assertRefused(Path archive, String message) {
    assertThatThrownBy(() -> Unpacker.unpack(archive, dir.resolve("t" + System.nanoTime())))
        .isInstanceOf(Unpacker.UnsafeArchiveException.class).hasMessageContaining(message);
    assertThat(dir.getParent().resolve("outside.txt")).doesNotExist();
  }
}
