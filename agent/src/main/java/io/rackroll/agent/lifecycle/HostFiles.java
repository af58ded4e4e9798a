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

  /**
   * Makes every file and directory under {@code root} durable, links not followed: what a release
   * holds must be on the disk before the marker that says it is complete, or a power cut could
   * leave a release that is marked installed with files the disk never got.
   */
  static void syncTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.toList()) {
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
          }
        }
      }
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
