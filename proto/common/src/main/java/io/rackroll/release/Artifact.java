package io.rackroll.release;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/**
 * A release artifact: a {@code .tar.gz} with {@code rackroll.yaml} at its root. {@link #inspect}
 * reads one without unpacking it (the controller checks every push this way); {@link #pack}
 * builds one from a directory, keeping executable bits.
 */
public record Artifact(Manifest manifest, Set<String> files, long unpackedBytes, long entries) {
  /** Manifests larger than this are refused before parsing. */
  private static final int MAX_MANIFEST_BYTES = 256 * 1024;

  public Artifact {
    files = Set.copyOf(files);
  }

  /**
   * Reads the manifest and the file list of {@code tarGz}, and checks that the files the manifest
   * names are in it. Reading stops the moment the archive passes {@code limits}.
   *
   * @throws ManifestException for a missing or bad manifest, or a manifest naming missing files
   * @throws UnpackLimits.ExceededException when the archive passes {@code limits}
   * @throws IOException when the file is not a readable .tar.gz
   */
  public static Artifact inspect(Path tarGz, UnpackLimits limits) throws IOException, ManifestException {
    String manifestText = null;
    Set<String> files = new LinkedHashSet<>();
    long unpacked = 0;
    long entries = 0;
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(tarGz));
        TarArchiveInputStream tar = new TarArchiveInputStream(
            limits.bound(new GzipCompressorInputStream(raw), Files.size(tarGz)))) {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        String name = e.getName().startsWith("./") ? e.getName().substring(2) : e.getName();
        entries++;
        if (regularFile(e)) {
          unpacked += Math.max(0, e.getSize());
        }
        limits.admit(entries, unpacked);
        if (regularFile(e)) {
          files.add(name);
          if (name.equals(Manifest.FILE)) {
            if (e.getSize() > MAX_MANIFEST_BYTES) {
              throw new ManifestException(List.of(Manifest.FILE + ": " + e.getSize() + " bytes (expected: at most "
                  + MAX_MANIFEST_BYTES + ")"));
            }
            manifestText = new String(tar.readAllBytes(), StandardCharsets.UTF_8);
          }
        }
      }
    } catch (UnpackLimits.ExceededException e) {
      throw e;
    } catch (IOException | IllegalArgumentException e) {
      throw new IOException("not a readable .tar.gz: " + Artifact.why(e), e);
    }
    if (manifestText == null) {
      throw new ManifestException(List.of(Manifest.FILE + ": missing at the root of the artifact"
          + " (expected: build it with 'rackroll release pack DIR')"));
    }
    Manifest manifest = Manifest.parse(manifestText);
    manifest.checkFiles(files);
    return new Artifact(manifest, files, unpacked, entries);
  }

  /**
   * Packs {@code dir} into {@code out} after checking its manifest and the files it names. Entries
   * are sorted, owned by root and dated at the epoch, so the same directory packs to the same bytes.
   */
  public static Manifest pack(Path dir, Path out) throws IOException, ManifestException {
    Path manifestFile = dir.resolve(Manifest.FILE);
    if (!Files.isRegularFile(manifestFile)) {
      throw new ManifestException(List.of(Manifest.FILE + ": missing in " + dir + " (expected: the release manifest at its root)"));
    }
    Manifest manifest = Manifest.parse(Files.readString(manifestFile));
    List<Path> entries;
    try (Stream<Path> walk = Files.walk(dir)) {
      entries = new ArrayList<>(walk.filter(p -> !p.equals(dir)).sorted().toList());
    }
    Set<String> files = new LinkedHashSet<>();
    for (Path p : entries) {
      if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        files.add(relative(dir, p));
      }
    }
    manifest.checkFiles(files);
    try (OutputStream fileOut = new BufferedOutputStream(Files.newOutputStream(out));
        TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(fileOut))) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      for (Path p : entries) {
        String name = relative(dir, p);
        TarArchiveEntry e;
        if (Files.isSymbolicLink(p)) {
          e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
          e.setLinkName(Files.readSymbolicLink(p).toString());
        } else if (Files.isDirectory(p)) {
          e = new TarArchiveEntry(name + "/");
        } else {
          e = new TarArchiveEntry(name);
          e.setSize(Files.size(p));
        }
        e.setModTime(0);
        e.setUserId(0);
        e.setGroupId(0);
        e.setUserName("root");
        e.setGroupName("root");
        if (!Files.isSymbolicLink(p)) {
          e.setMode(mode(p));
        }
        tar.putArchiveEntry(e);
        if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          Files.copy(p, tar);
        }
        tar.closeArchiveEntry();
      }
    }
    return manifest;
  }

  /**
   * Whether {@code e} is a regular file: commons-compress calls every entry that is not a
   * directory a "file", links and devices included.
   */
  public static boolean regularFile(TarArchiveEntry e) {
    byte type = e.getLinkFlag();
    return type == TarArchiveEntry.LF_NORMAL || type == TarArchiveEntry.LF_OLDNORM || type == TarArchiveEntry.LF_CONTIG;
  }

  /**
   * What went wrong reading an archive, in words: commons-compress and the JDK often throw with no
   * message at all (a truncated gzip stream is an EOFException whose message is null).
   */
  public static String why(Exception e) {
    if (e instanceof java.io.EOFException) {
      return "it ends too early (truncated, or the upload was cut short)";
    }
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }

  private static String relative(Path dir, Path p) {
    return dir.relativize(p).toString().replace(java.io.File.separatorChar, '/');
  }

  /** 0755 for directories and executables, 0644 for the rest: only the executable bit is kept. */
  private static int mode(Path p) throws IOException {
    if (Files.isDirectory(p)) {
      return 040755;
    }
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
    return perms.contains(PosixFilePermission.OWNER_EXECUTE) ? 0100755 : 0100644;
  }
}
