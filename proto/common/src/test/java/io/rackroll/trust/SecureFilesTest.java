package io.rackroll.trust;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecureFilesTest {
  @TempDir Path dir;

  @Test
  void writesKeysOwnerOnlyAndLeavesNoTemporaryFile() throws Exception {
    Path key = dir.resolve("pki").resolve("agent.key");
    SecureFiles.writeString(key, "secret", SecureFiles.OWNER_ONLY);
    assertThat(key).hasContent("secret");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
    try (var files = Files.list(key.getParent())) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("agent.key");
    }
  }

  @Test
  void replacesContentWhole() throws Exception {
    Path f = dir.resolve("state");
    SecureFiles.writeString(f, "first version, rather long", SecureFiles.PUBLIC);
    SecureFiles.writeString(f, "second", SecureFiles.PUBLIC);
    assertThat(f).hasContent("second");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-r--r--");
  }

  @Test
  void recoversFromATemporaryFileLeftByACrash() throws Exception {
    Path f = dir.resolve("state");
    Files.writeString(dir.resolve(".state.tmp"), "half-writ");
    SecureFiles.writeString(f, "whole", SecureFiles.PUBLIC);
    assertThat(f).hasContent("whole");
    assertThat(dir.resolve(".state.tmp")).doesNotExist();
  }

  @Test
  void privateDirectoryIs0700() throws Exception {
    Path d = SecureFiles.privateDirectory(dir.resolve("pki"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(d))).isEqualTo("rwx------");
  }
}
