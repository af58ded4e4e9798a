package io.rackroll.controller.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.controller.testing.TestController;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The controller's data directory holds the CA key, the secrets key and the database: its owner's alone. */
class DataDirectoryTest {
  @TempDir Path tmp;

  @Test
  void nothingInTheDataDirectoryIsReadableByOtherUsers() throws Exception {
    Path data = tmp.resolve("data");
    try (TestController controller = TestController.start(data)) {
      // Something an older version (or an operator) left world-readable is tightened at the next start.
      Files.writeString(data.resolve("notes.txt"), "x");
      Files.setPosixFilePermissions(data.resolve("notes.txt"), PosixFilePermissions.fromString("rw-r--r--"));
      controller.restart().close();
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
    List<Path> open;
    try (Stream<Path> walk = Files.walk(data)) {
      open = walk.filter(p -> !Files.isSymbolicLink(p)).filter(p -> {
        try {
          return Files.getPosixFilePermissions(p).stream().anyMatch(b -> !b.name().startsWith("OWNER_"));
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).toList();
    }
    assertThat(open).as("files and directories others could read").isEmpty();
    assertThat(data.resolve("db")).isDirectory();
    assertThat(Files.getPosixFilePermissions(data.resolve("notes.txt"))).containsOnly(PosixFilePermission.OWNER_READ,
        PosixFilePermission.OWNER_WRITE);
  }
}
