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
    Artifact a = Artifact.inspect(out);
    assertThat(a.manifest()).isEqualTo(packed);
    assertThat(a.files()).containsExactlyInAnyOrder("rackroll.yaml", "hooks/start.sh", "index.html");
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
    assertThatThrownBy(() -> Artifact.inspect(junk)).hasMessageStartingWith("not a readable .tar.gz");
  }
}
