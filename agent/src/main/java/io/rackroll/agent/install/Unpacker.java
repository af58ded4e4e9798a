package io.rackroll.agent.install;

import io.rackroll.release.Artifact;
import io.rackroll.release.UnpackLimits;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Unpacks a release artifact into an empty directory, refusing anything that could write outside
 * it or smuggle a special file onto the host: absolute paths, {@code ..}, writes through a link,
 * links that lead outside the release by any chain of links ({@link ReleaseTree#checkLinks}), hard
 * links, devices and FIFOs. Only the executable bit of a file's mode is kept
 * (0755 or 0644); owners are not restored.
 *
 * <p>Refusals throw {@link UnsafeArchiveException} naming the entry; the caller discards the
 * directory, so a refused artifact leaves nothing behind.
 */
public final class Unpacker {
  private Unpacker() {}

  /** Thrown for an entry that must not be unpacked. */
  public static final class UnsafeArchiveException extends IOException {
    UnsafeArchiveException(String entry, String why) {
      super("artifact entry \"" + entry + "\" refused: " + why);
    }

    UnsafeArchiveException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Unpacks {@code tarGz} into {@code target} with no limit but the disk's. */
  public static long unpack(Path tarGz, Path target) throws IOException {
    return unpack(tarGz, target, UnpackLimits.NONE);
  }

  /**
   * Unpacks {@code tarGz} into {@code target} (created; must not exist yet), stopping the moment
   * it passes {@code limits} (the figures the controller recorded at push). Returns the bytes written.
   */
  public static long unpack(Path tarGz, Path target, UnpackLimits limits) throws IOException {
    Files.createDirectories(target.getParent());
    Files.createDirectory(target);
    Path root = target.toRealPath();
    long written = 0;
    long entries = 0;
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(tarGz));
        TarArchiveInputStream tar = new TarArchiveInputStream(
            limits.bound(new GzipCompressorInputStream(raw), Files.size(tarGz)))) {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        limits.admit(++entries, written + (Artifact.regularFile(e) ? Math.max(0, e.getSize()) : 0));
        Path dest = inside(root, e.getName());
        // One name, one entry (a directory may be listed again): a second entry never replaces the first.
        if (Files.exists(dest, LinkOption.NOFOLLOW_LINKS)
            && !(e.isDirectory() && Files.isDirectory(dest, LinkOption.NOFOLLOW_LINKS))) {
          throw new UnsafeArchiveException(e.getName(), "appears twice, or would overwrite a link");
        }
        // Special types first: commons-compress counts anything that is not a directory as a "file".
        if (e.isLink()) {
          throw new UnsafeArchiveException(e.getName(), "hard links are not allowed in releases");
        } else if (e.isCharacterDevice() || e.isBlockDevice()) {
          throw new UnsafeArchiveException(e.getName(), "device files are not allowed in releases");
        } else if (e.isFIFO()) {
          throw new UnsafeArchiveException(e.getName(), "FIFOs are not allowed in releases");
        } else if (e.isSymbolicLink()) {
          checkLinkTarget(root, dest, e.getName(), e.getLinkName());
          Files.createDirectories(dest.getParent());
          Files.createSymbolicLink(dest, Path.of(e.getLinkName()));
        } else if (e.isDirectory()) {
          Files.createDirectories(dest);
        } else if (Artifact.regularFile(e)) {
          Files.createDirectories(dest.getParent());
          written += Files.copy(tar, dest);
          Files.setPosixFilePermissions(dest,
              PosixFilePermissions.fromString((e.getMode() & 0100) != 0 ? "rwxr-xr-x" : "rw-r--r--"));
        } else {
          throw new UnsafeArchiveException(e.getName(), "unsupported entry type '" + (char) e.getLinkFlag() + "'");
        }
      }
      // Links are judged once every entry is on disk: what a link leads to depends on the links after it.
      ReleaseTree.checkLinks(root);
    } catch (UnsafeArchiveException e) {
      throw e;
    } catch (UnpackLimits.ExceededException e) {
      throw new UnsafeArchiveException("artifact " + e.getMessage(), e);
    } catch (IOException | IllegalArgumentException e) {
      throw new IOException("artifact is not a readable .tar.gz: " + Artifact.why(e), e);
    }
    return written;
  }

  /** The destination of {@code name}, which must stay inside {@code root}. */
  private static Path inside(Path root, String name) throws UnsafeArchiveException {
    if (name.startsWith("/") || name.matches("^[A-Za-z]:.*")) {
      throw new UnsafeArchiveException(name, "absolute paths are not allowed");
    }
    for (String segment : name.split("/")) {
      if (segment.equals("..")) {
        throw new UnsafeArchiveException(name, "'..' is not allowed");
      }
    }
    Path dest = root.resolve(name).normalize();
    if (!dest.startsWith(root)) {
      throw new UnsafeArchiveException(name, "resolves outside the release");
    }
    // A parent that is a symlink (unpacked earlier) could lead outside; refuse to write through one.
    for (Path p = dest.getParent(); p != null && !p.equals(root); p = p.getParent()) {
      if (Files.isSymbolicLink(p)) {
        throw new UnsafeArchiveException(name, "would be written through the link " + root.relativize(p));
      }
    }
    return dest;
  }

  private static void checkLinkTarget(Path root, Path link, String name, String target) throws UnsafeArchiveException {
    if (target.isEmpty() || target.startsWith("/")) {
      throw new UnsafeArchiveException(name, "links must be relative and stay inside the release (points to " + target + ")");
    }
    Path resolved = link.getParent().resolve(target).normalize();
    if (!resolved.startsWith(root)) {
      throw new UnsafeArchiveException(name, "link points outside the release (" + target + ")");
    }
  }
}
