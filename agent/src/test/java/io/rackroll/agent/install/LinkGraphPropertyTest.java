package io.rackroll.agent.install;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.Test;

/**
 * Generated archives of files, directories and links (relative and absolute, chains, cycles,
 * links through links, in any order), each unpacked beside files that must never change. Each
 * archive comes from one seed of {@link Random}, so a failure names the seed that reproduces it. Whether
 * the unpacker accepts or refuses one, afterwards no path under the release resolves outside it,
 * and nothing outside it was created, changed or removed.
 */
class LinkGraphPropertyTest {
  /** Names from a tiny alphabet, so that generated links often hit each other. */
  private static final List<String> NAMES = List.of("a", "b", "c");

  record Entry(String path, char kind, String target) {}

  /** Tries per run; each is one seed, so a failure names the seed that reproduces it. */
  private static final int TRIES = 3000;

  /**
   * An archive of 1 to 12 entries: files, directories and (mostly) links. Half the links go
   * through an entry made before them (its path, reached from the link's own directory, then
   * {@code ..} or a name), since links through links are where escapes hide.
   */
  static List<Entry> archive(Random random) {
    List<Entry> entries = new ArrayList<>();
    int n = 1 + random.nextInt(12);
    for (int i = 0; i < n; i++) {
      char kind = "fdlll".charAt(random.nextInt(5));
      String path = path(random);
      String target = !entries.isEmpty() && random.nextBoolean() ? through(random, path, entries) : target(random);
      entries.add(new Entry(path, kind, target));
    }
    return entries;
  }

  private static String path(Random random) {
    StringBuilder b = new StringBuilder(NAMES.get(random.nextInt(NAMES.size())));
    for (int depth = random.nextInt(3); depth > 0; depth--) {
      b.append('/').append(NAMES.get(random.nextInt(NAMES.size())));
    }
    return b.toString();
  }

  /** Relative targets of names, "." and many ".."; now and then an absolute one. */
  private static String target(Random random) {
    if (random.nextInt(13) == 0) {
      return List.of("/", "/etc", "/tmp").get(random.nextInt(3));
    }
    List<String> parts = new ArrayList<>();
    for (int i = 1 + random.nextInt(5); i > 0; i--) {
      int r = random.nextInt(11);
      parts.add(r < 5 ? NAMES.get(random.nextInt(NAMES.size())) : r < 10 ? ".." : ".");
    }
    return String.join("/", parts);
  }

  /** A target through an earlier entry: up from {@code path}'s directory to the root, down to it, then more. */
  private static String through(Random random, String path, List<Entry> earlier) {
    List<String> parts = new ArrayList<>();
    for (int up = path.split("/").length - 1; up > 0; up--) {
      parts.add("..");
    }
    parts.add(earlier.get(random.nextInt(earlier.size())).path());
    for (int i = random.nextInt(4); i > 0; i--) {
      parts.add(random.nextInt(3) == 0 ? NAMES.get(random.nextInt(NAMES.size())) : "..");
    }
    return String.join("/", parts);
  }

  @Test
  void nothingUnderTheReleaseLeadsOutAndNothingOutsideChanges() throws Exception {
    Path sandbox = Files.createTempDirectory("link-graph");
    try {
      Path releases = Files.createDirectories(sandbox.resolve("apps/web/releases"));
      // Decoys on every level above the release, named as generated paths are, so that a link which
      // escapes lands on something that exists (and would show up resolved outside).
      for (Path level = releases; level.startsWith(sandbox); level = level.getParent()) {
        for (String n : NAMES) {
          for (String m : NAMES) {
            Files.writeString(Files.createDirectories(level.resolve(n)).resolve(m), "untouched");
          }
        }
      }
      Map<String, String> before = snapshot(sandbox);
      int accepted = 0;
      for (int seed = 0; seed < TRIES; seed++) {
        List<Entry> entries = archive(new Random(seed));
        try {
          accepted += unpack(sandbox, releases.resolve("1"), entries) ? 1 : 0;
          assertThat(snapshot(sandbox)).as("everything outside the release").isEqualTo(before);
        } catch (AssertionError e) {
          throw new AssertionError("seed " + seed + ", entries " + entries + ": " + e.getMessage(), e);
        }
      }
      // Both outcomes are exercised: the property is not vacuous.
      assertThat(accepted).as("archives accepted of " + TRIES).isBetween(TRIES / 50, TRIES - TRIES / 50);
    } finally {
      deleteTree(sandbox);
    }
  }

  /**
   * Unpacks {@code entries} into {@code release}, checks that nothing under it resolves outside, and
   * removes it (links themselves, never what they point to); returns whether it was accepted.
   */
  private static boolean unpack(Path sandbox, Path release, List<Entry> entries) throws Exception {
    Path archive = archive(sandbox.resolve("a.tar.gz"), entries);
    try {
      Unpacker.unpack(archive, release);
      assertEveryPathStaysInside(release);
      return true;
    } catch (IOException refused) {
      // A refusal is fine; what it left behind is deleted by the lifecycle, and must not reach out either.
      return false;
    } finally {
      Files.delete(archive);
      if (Files.exists(release, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        deleteTree(release);
      }
    }
  }

  /** Every path under the release, followed through its links as the kernel would, lands inside it. */
  private static void assertEveryPathStaysInside(Path release) throws IOException {
    Path root = release.toRealPath();
    try (Stream<Path> walk = Files.walk(release)) {
      for (Path p : walk.toList()) {
        if (Files.exists(p)) {
          assertThat(p.toRealPath()).as("%s resolves to", root.relativize(p.toAbsolutePath())).startsWith(root);
        }
      }
    }
  }

  private static Path archive(Path out, List<Entry> entries) throws IOException {
    try (OutputStream file = Files.newOutputStream(out);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(file))) {
      for (Entry e : entries) {
        TarArchiveEntry t;
        if (e.kind() == 'l') {
          t = new TarArchiveEntry(e.path(), TarArchiveEntry.LF_SYMLINK);
          t.setLinkName(e.target());
        } else if (e.kind() == 'd') {
          t = new TarArchiveEntry(e.path() + "/");
        } else {
          t = new TarArchiveEntry(e.path());
          t.setSize(1);
        }
        tar.putArchiveEntry(t);
        if (e.kind() == 'f') {
          tar.write("x".getBytes(StandardCharsets.UTF_8));
        }
        tar.closeArchiveEntry();
      }
    }
    return out;
  }

  /** Every path under {@code dir} (links not followed) with what it is, and a file's content. */
  private static Map<String, String> snapshot(Path dir) throws IOException {
    Map<String, String> out = new TreeMap<>();
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
        if (!d.equals(dir)) {
          out.put(dir.relativize(d).toString(), "dir");
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
        String rel = dir.relativize(f).toString();
        out.put(rel, attrs.isSymbolicLink() ? "link " + Files.readSymbolicLink(f)
            : "file " + Files.readString(f));
        return FileVisitResult.CONTINUE;
      }
    });
    return out;
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
