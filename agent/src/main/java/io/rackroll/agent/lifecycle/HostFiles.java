package io.rackroll.agent.lifecycle;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** File operations the lifecycle's steps share, and what a disk's refusal means for a job. */
final class HostFiles {
  private HostFiles() {}

  /** Makes a directory's entries (a rename, a new link) durable. */
  static void syncDir(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /** Removes {@code root} and everything under it, never following a link out of it. */
  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** The failure kind of a disk's refusal: disk_full, disk_read_only, else io_error. */
  static String diskKind(IOException e) {
    String m = String.valueOf(e.getMessage());
    return m.contains("No space left") ? "disk_full" : m.contains("Read-only file system") ? "disk_read_only" : "io_error";
  }
}
