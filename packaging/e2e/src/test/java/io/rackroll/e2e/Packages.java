package io.rackroll.e2e;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.CompressorStreamFactory;

/** The packages this build made (target/*.deb, target/*.tar.gz), and ways to look into them. */
final class Packages {
  static final Path DIR = Path.of(System.getProperty("rackroll.packages"));
  static final String VERSION = System.getProperty("rackroll.version");

  private Packages() {}

  /** The file is named after the Maven version; the Debian version inside expands a snapshot's timestamp. */
  static Path deb(String name) {
    return DIR.resolve(name + "_" + VERSION + "_all.deb");
  }

  /** The Debian version inside a .deb (its control file's Version field). */
  static String debVersion(Path deb) throws Exception {
    return read(deb).field("Version");
  }

  static Path tarball(String name) {
    return DIR.resolve(name + "-" + VERSION + ".tar.gz");
  }

  /** Unpacks a .tar.gz under {@code root} as an operator would ({@code tar -xzf FILE -C ROOT}), modes kept. */
  static void unpack(Path tarball, Path root, String... tarOptions) throws IOException, InterruptedException {
    Files.createDirectories(root);
    List<String> cmd = new java.util.ArrayList<>(List.of("tar", "-xzf", tarball.toString(), "-C", root.toString()));
    cmd.addAll(List.of(tarOptions));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("tar failed: " + out);
    }
  }

  /** One file of a package: its path (without a leading "./"), mode and, for small files, text. */
  record Entry(String path, int mode, long size, boolean directory, String text) {}

  /** A .deb read as ar members: control.tar.* and data.tar.*, with their entries by path. */
  record Deb(Map<String, Entry> control, Map<String, Entry> data) {
    String field(String name) {
      for (String line : control.get("control").text().split("\n")) {
        if (line.startsWith(name + ": ")) {
          return line.substring(name.length() + 2);
        }
      }
      throw new AssertionError("control has no " + name + " field:\n" + control.get("control").text());
    }
  }

  static Deb read(Path deb) throws Exception {
    Map<String, Entry> control = null;
    Map<String, Entry> data = null;
    try (ArArchiveInputStream ar = new ArArchiveInputStream(new BufferedInputStream(Files.newInputStream(deb)))) {
      ArArchiveEntry member;
      while ((member = ar.getNextEntry()) != null) {
        if (member.getName().startsWith("control.tar")) {
          control = tar(ar);
        } else if (member.getName().startsWith("data.tar")) {
          data = tar(ar);
        }
      }
    }
    if (control == null || data == null) {
      throw new AssertionError(deb + " lacks a control or data archive");
    }
    return new Deb(control, data);
  }

  private static Map<String, Entry> tar(InputStream member) throws Exception {
    Map<String, Entry> entries = new LinkedHashMap<>();
    InputStream unpacked = new CompressorStreamFactory().createCompressorInputStream(new BufferedInputStream(member) {
      @Override
      public void close() {
        // the ar stream goes on to its next member
      }
    });
    TarArchiveInputStream tar = new TarArchiveInputStream(unpacked);
    TarArchiveEntry e;
    while ((e = tar.getNextEntry()) != null) {
      String path = e.getName().replaceFirst("^\\./", "").replaceFirst("/$", "");
      String text = !e.isDirectory() && e.getSize() < 64 * 1024
          ? new String(tar.readAllBytes(), StandardCharsets.UTF_8) : null;
      entries.put(path, new Entry(path, e.getMode() & 07777, e.getSize(), e.isDirectory(), text));
    }
    return entries;
  }
}
