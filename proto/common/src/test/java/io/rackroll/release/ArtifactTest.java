package io.rackroll.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactTest {
  @TempDir Path dir;

  private Path release() throws Exception {
    Path src = Files.createDirectories(dir.resolve("web"));
    Files.writeString(src.resolve("rackroll.yaml"), "name: web\nversion: 1.0.0\nhooks:\n  activate: hooks/start.sh\n");
    Files.createDirectories(src.resolve("hooks"));
    Files.writeString(src.resolve("hooks/start.sh"), "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(src.resolve("hooks/start.sh"), PosixFilePermissions.fromString("rwxr-x---"));
    Files.writeString(src.resolve("index.html"), "hello");
    return src;
  }

  @Test
  void packsAndInspectsKeepingTheExecutableBit() throws Exception {
    Path out = dir.resolve("web.tar.gz");
    Manifest packed = Artifact.pack(release(), out);
    Artifact a = Artifact.inspect(out, UnpackLimits.NONE);
    assertThat(a.manifest()).isEqualTo(packed);
    assertThat(a.files()).containsExactlyInAnyOrder("rackroll.yaml", "hooks/start.sh", "index.html");
    assertThat(a.entries()).isEqualTo(4); // rackroll.yaml, hooks/, hooks/start.sh, index.html
    assertThat(a.unpackedBytes()).isEqualTo(Files.size(dir.resolve("web/rackroll.yaml"))
        + Files.size(dir.resolve("web/hooks/start.sh")) + Files.size(dir.resolve("web/index.html")));
    Map<String, Integer> modes = new HashMap<>();
    try (InputStream in = Files.newInputStream(out);
        TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(in))) {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        modes.put(e.getName(), e.getMode() & 0777);
      }
    }
    assertThat(modes).containsEntry("hooks/start.sh", 0755).containsEntry("index.html", 0644).containsEntry("hooks/", 0755);
  }

  @Test
  void linksArePackedAsLinksAndAreNotFilesOfTheRelease() throws Exception {
    Path src = release();
    Files.createSymbolicLink(src.resolve("up"), Path.of(".."));
    Files.createSymbolicLink(src.resolve("start"), Path.of("hooks/start.sh"));
    Path out = dir.resolve("links.tar.gz");
    Artifact.pack(src, out);
    Artifact a = Artifact.inspect(out, UnpackLimits.NONE);
    assertThat(a.files()).containsExactlyInAnyOrder("rackroll.yaml", "hooks/start.sh", "index.html");
    assertThat(a.entries()).isEqualTo(6);
  }

  @Test
  void sameDirectoryPacksToTheSameBytes() throws Exception {
    Path src = release();
    Artifact.pack(src, dir.resolve("a.tar.gz"));
    Artifact.pack(src, dir.resolve("b.tar.gz"));
    assertThat(Files.readAllBytes(dir.resolve("a.tar.gz"))).isEqualTo(Files.readAllBytes(dir.resolve("b.tar.gz")));
  }

  @Test
  void refusesToPackAReleaseWhoseHookIsMissing() throws Exception {
    Path src = release();
    Files.delete(src.resolve("hooks/start.sh"));
    assertThatThrownBy(() -> Artifact.pack(src, dir.resolve("x.tar.gz")))
        .hasMessage("rackroll.yaml: hooks.activate: hooks/start.sh is not in the artifact");
    assertThat(dir.resolve("x.tar.gz")).doesNotExist();
  }

  @Test
  void artifactWithoutManifestIsRefused() throws Exception {
    Path src = release();
    Files.delete(src.resolve("rackroll.yaml"));
    assertThatThrownBy(() -> Artifact.pack(src, dir.resolve("x.tar.gz"))).hasMessageContaining("rackroll.yaml: missing in");
  }

  @Test
  void somethingThatIsNotATarGzSaysSo() throws Exception {
    Path junk = Files.writeString(dir.resolve("junk.tar.gz"), "not gzip at all");
    assertThatThrownBy(() -> Artifact.inspect(junk, UnpackLimits.NONE)).hasMessageStartingWith("not a readable .tar.gz");
  }

  @Test
  void aTruncatedArtifactSaysItEndsTooEarly() throws Exception {
    Path out = dir.resolve("web.tar.gz");
    Artifact.pack(release(), out);
    byte[] bytes = Files.readAllBytes(out);
    Path cut = Files.write(dir.resolve("cut.tar.gz"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
    assertThatThrownBy(() -> Artifact.inspect(cut, UnpackLimits.NONE))
        .hasMessage("not a readable .tar.gz: it ends too early (truncated, or the upload was cut short)");
  }

  @Test
  void aDecompressionBombIsRefusedAfterReadingNoMoreThanTheRatioAllows() throws Exception {
    // 64 MiB of zeros in one file: about 64 KiB of gzip, a ratio near 1000.
    Path bomb = bomb(64 << 20, 1);
    UnpackLimits limits = new UnpackLimits(8L << 30, 1000, 100, "test ceiling");
    assertThatThrownBy(() -> Artifact.inspect(bomb, limits))
        .isInstanceOf(UnpackLimits.ExceededException.class)
        .hasMessageStartingWith("expands more than 100 times its compressed size of")
        .hasMessageEndingWith("as decompression bombs do (test ceiling)");
  }

  @Test
  void sizeAndEntryCeilingsAreCheckedFromTheHeadersBeforeTheContentIsRead() throws Exception {
    assertThatThrownBy(() -> Artifact.inspect(bomb(2 << 20, 1), new UnpackLimits(1 << 20, 1000, 0, "ceiling")))
        .isInstanceOf(UnpackLimits.ExceededException.class).hasMessage("unpacks to more than 1.0 MiB (ceiling)");
    assertThatThrownBy(() -> Artifact.inspect(bomb(10, 50), new UnpackLimits(1 << 20, 20, 0, "ceiling")))
        .isInstanceOf(UnpackLimits.ExceededException.class).hasMessage("holds more than 20 entries (ceiling)");
  }

  /** A .tar.gz of {@code files} files of {@code bytes} zeros each, then a manifest. */
  private Path bomb(long bytes, int files) throws Exception {
    Path out = dir.resolve("bomb" + System.nanoTime() + ".tar.gz");
    try (var file = Files.newOutputStream(out);
        var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(
            new org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream(file))) {
      tar.setBigNumberMode(org.apache.commons.compress.archivers.tar.TarArchiveOutputStream.BIGNUMBER_POSIX);
      byte[] zeros = new byte[1 << 16];
      for (int i = 0; i < files; i++) {
        TarArchiveEntry e = new TarArchiveEntry("zeros" + i);
        e.setSize(bytes);
        tar.putArchiveEntry(e);
        for (long left = bytes; left > 0; left -= zeros.length) {
          tar.write(zeros, 0, (int) Math.min(zeros.length, left));
        }
        tar.closeArchiveEntry();
      }
      byte[] manifest = "name: bomb\nversion: \"1\"\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      TarArchiveEntry m = new TarArchiveEntry("rackroll.yaml");
      m.setSize(manifest.length);
      tar.putArchiveEntry(m);
      tar.write(manifest);
      tar.closeArchiveEntry();
    }
    return out;
  }
}
