package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An operator packs a release directory, pushes it, and looks at it, all through the CLI. */
class ReleasesIT {
  @TempDir static Path dir;
  private static Fleet fleet;

  @BeforeAll
  static void start() throws Exception {
    fleet = Fleet.start(dir);
  }

  @AfterAll
  static void stop() {
    if (fleet != null) {
      fleet.close();
    }
  }

  private static Path releaseDir(String name, String version, String manifestExtra) throws Exception {
    Path src = Files.createDirectories(dir.resolve("src-" + name + "-" + version));
    Files.writeString(src.resolve("rackroll.yaml"), "name: " + name + "\nversion: " + version + "\n" + manifestExtra);
    Files.createDirectories(src.resolve("hooks"));
    Path start = Files.writeString(src.resolve("hooks/start.sh"), "#!/bin/sh\necho started\n");
    Files.setPosixFilePermissions(start, PosixFilePermissions.fromString("rwxr-xr-x"));
    return src;
  }

  @Test
  void packPushListShow() throws Exception {
    Path src = releaseDir("web", "1.4.2", "hooks:\n  activate: hooks/start.sh\n");
    Path artifact = dir.resolve("web-1.4.2.tar.gz");

    Fleet.Cli pack = fleet.rackroll("release", "pack", src.toString(), "-o", artifact.toString());
    assertThat(pack.exit()).as(pack.toString()).isZero();
    assertThat(pack.out()).startsWith("packed web@1.4.2 into " + artifact);

    Fleet.Cli push = fleet.rackroll("release", "push", artifact.toString());
    assertThat(push.exit()).as(push.toString()).isZero();
    assertThat(push.out()).startsWith("pushed web@1.4.2");

    Fleet.Cli again = fleet.rackroll("release", "push", artifact.toString());
    assertThat(again.out()).contains("web@1.4.2 is already on the controller with these bytes; nothing changed");

    Fleet.Cli list = fleet.rackroll("releases");
    assertThat(list.out()).contains("web", "1.4.2", "admin");
    Fleet.Cli versions = fleet.rackroll("releases", "web");
    assertThat(versions.out()).containsPattern("1\\.4\\.2 +\\S+ +- +- +- +-"); // pushed, running nowhere

    Fleet.Cli show = fleet.rackroll("release", "show", "web@1.4.2");
    assertThat(show.out()).contains("release    web@1.4.2", "--- rackroll.yaml", "activate: hooks/start.sh");
  }

  @Test
  void packRefusesABadManifestWithItsLine() throws Exception {
    Path src = releaseDir("api", "1.0", "hooks:\n  activate: hooks/missing.sh\n");
    Fleet.Cli r = fleet.rackroll("release", "pack", src.toString(), "-o", dir.resolve("api.tar.gz").toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("rackroll: rackroll.yaml: hooks.activate: hooks/missing.sh is not in the artifact"
        + " (fix the manifest and try again)");
    assertThat(dir.resolve("api.tar.gz")).doesNotExist();
  }

  @Test
  void changedBytesUnderAnExistingVersionAreRefused() throws Exception {
    Path first = releaseDir("db", "2.0", "");
    fleet.rackroll("release", "pack", first.toString(), "-o", dir.resolve("db-a.tar.gz").toString());
    assertThat(fleet.rackroll("release", "push", dir.resolve("db-a.tar.gz").toString()).exit()).isZero();
    Files.writeString(first.resolve("extra.txt"), "changed");
    fleet.rackroll("release", "pack", first.toString(), "-o", dir.resolve("db-b.tar.gz").toString());

    Fleet.Cli r = fleet.rackroll("release", "push", dir.resolve("db-b.tar.gz").toString());

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("rackroll: db@2.0 already exists with different content", "give this one a new version");
    assertThat(r.err().strip().lines()).hasSize(1);
  }

  @Test
  void missingFilesAndUnknownReleasesSaySo() {
    Fleet.Cli push = fleet.rackroll("release", "push", dir.resolve("nope.tar.gz").toString());
    assertThat(push.exit()).isEqualTo(1);
    assertThat(push.err()).contains("nope.tar.gz does not exist (expected: an artifact made by 'rackroll release pack')");
    Fleet.Cli show = fleet.rackroll("release", "show", "web@0.0.0");
    assertThat(show.err()).contains("rackroll: no release web@0.0.0; list releases with 'rackroll releases web'");
    Fleet.Cli malformed = fleet.rackroll("release", "show", "web");
    assertThat(malformed.err()).contains("release: web (expected: NAME@VERSION, e.g. web@1.4.2)");
  }
}
