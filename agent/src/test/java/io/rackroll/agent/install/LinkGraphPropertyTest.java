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
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/**
 * Generated archives of files, directories and links (relative and absolute, chains, cycles,
 * links through links, in any order), each unpacked beside files that must never change. Whether
 * the unpacker accepts or refuses one, afterwards no path under the release resolves outside it,
 * and nothing outside it was created, changed or removed.
 */
class LinkGraphPropertyTest {
  /** Names from a tiny alphabet, so that generated links often hit each other. */
  private static final List<String> NAMES = List.of("a", "b", "c");

  record Entry(String path, char kind, String target) {}

  @Provide
  Arbitrary<List<Entry>> archives() {
    Arbitrary<String> name = Arbitraries.of(NAMES);
    Arbitrary<String> path = name.list().ofMinSize(1).ofMaxSize(3).map(l -> String.join("/", l));
    Arbitrary<String> component = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(5, name), net.jqwik.api.Tuple.of(5, Arbitraries.just("..")),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(".")));
    Arbitrary<String> relative = component.list().ofMinSize(1).ofMaxSize(5).map(l -> String.join("/", l));
    Arbitrary<String> target = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(12, relative),
        net.jqwik.api.Tuple.of(1, Arbitraries.of("/", "/etc", "/tmp")));
    Arbitrary<Character> kind = Arbitraries.of('f', 'd', 'l', 'l', 'l');
    return Combinators.combine(path, kind, target).as(Entry::new).list().ofMinSize(1).ofMaxSize(12);
  }

  @Property(tries = 300)
  void nothingUnderTheReleaseLeadsOutAndNothingOutsideChanges(@ForAll("archives") List<Entry> entries)
      throws Exception {
    Path sandbox = Files.createTempDirectory("link-graph");
    try {
      Path apps = Files.createDirectories(sandbox.resolve("apps/web/releases"));
      // Decoys on every level above the release, named as generated paths are, so that a link which
      // escapes lands on something that exists (and would show up resolved outside).
      for (Path level = apps; level.startsWith(sandbox); level = level.getParent()) {
        for (String n : NAMES) {
          for (String m : NAMES) {
            Files.writeString(Files.createDirectories(level.resolve(n)).resolve(m), "untouched");
          }
        }
      }
      Map<String, String> before = snapshot(sandbox);
      Path release = apps.resolve("1");
      Path archive = archive(sandbox.resolve("a.tar.gz"), entries);
      before.put("a.tar.gz", "file");

      try {
        Unpacker.unpack(archive, release);
        assertEveryPathStaysInside(release);
        Statistics.label("unpack").collect("accepted");
      } catch (IOException refused) {
        Statistics.label("unpack").collect("refused");
        // A refusal is fine; what it left behind is deleted by the lifecycle, and must not reach out either.
      }

      Map<String, String> after = snapshot(sandbox);
      after.keySet().removeIf(p -> p.startsWith("apps/web/releases/1/") || p.equals("apps/web/releases/1"));
      assertThat(after).isEqualTo(before);
    } finally {
      deleteTree(sandbox);
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
            : rel.equals("a.tar.gz") ? "file" : "file " + Files.readString(f));
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
