package io.rackroll.agent.lifecycle;

import io.rackroll.release.Manifest;
import io.rackroll.release.ManifestException;
import io.rackroll.trust.SecureFiles;
import io.rackroll.wire.JsonRecords;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this host holds of each app, read from its files ({@link HostLayout}): the release
 * {@code current} points at, the kept releases, the persisted job, a release's manifest and
 * configuration. And the changes to them that are not a step's own: persisting a job, switching
 * {@code current}, pruning old releases. Used by the lifecycle, its steps, flags and the reports.
 */
final class InstalledReleases {
  private static final Logger log = LoggerFactory.getLogger(InstalledReleases.class);
  /** Releases remembered as once active, per app. */
  private static final int HISTORY = 32;

  private final HostLayout layout;
  private final int keepReleases;

  InstalledReleases(HostLayout layout, int keepReleases) {
    this.layout = layout;
    this.keepReleases = keepReleases;
  }

  HostLayout layout() {
    return layout;
  }

  /** The version {@code current} points to, if any. */
  Optional<String> currentVersion(String app) throws IOException {
    return currentRelease(app).map(Releases::versionOf);
  }

  /** The release directory {@code current} points to, if any. */
  Optional<String> currentRelease(String app) throws IOException {
    Path current = layout.current(app);
    if (!Files.isSymbolicLink(current)) {
      return Optional.empty();
    }
    return Optional.of(Files.readSymbolicLink(current).getFileName().toString());
  }

  /** The directory {@code current} points to, or null. */
  Path currentDir(String app) throws IOException {
    Optional<String> v = currentRelease(app);
    return v.isPresent() ? releaseDir(app, v.get()) : null;
  }

  /** Versions of {@code app} unpacked on this host, newest first. */
  List<String> keptVersions(String app) throws IOException {
    return keptReleases(app).stream().map(Releases::versionOf).distinct().toList();
  }

  /** Release directories of {@code app}, newest first. */
  List<String> keptReleases(String app) throws IOException {
    return releaseDirs(app).stream().map(p -> p.getFileName().toString()).toList();
  }

  private List<Path> releaseDirs(String app) throws IOException {
    Path releases = layout.releases(app);
    if (!Files.isDirectory(releases)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(releases)) {
      return s.filter(p -> !p.getFileName().toString().startsWith("."))
          .sorted(Comparator.comparing((Path p) -> p.toFile().lastModified()).reversed()).toList();
    }
  }

  /** The configuration digest the current release of {@code app} was installed with; empty when none. */
  String currentConfigDigest(String app) throws IOException {
    Optional<String> current = currentRelease(app);
    return current.isEmpty() ? "" : configDigestOf(app, current.get());
  }

  /** The configuration digest release directory {@code release} was installed with; empty when none. */
  String configDigestOf(String app, String release) throws IOException {
    return ReleaseConfig.read(releaseDir(app, release)).digest();
  }

  /** The last persisted job of {@code app}. */
  Optional<Job> job(String app) throws IOException {
    try {
      return Optional.of(JsonRecords.read(Files.readAllBytes(layout.job(app)), Job.class));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /** The last job of every app on this host, for reporting after a reconnect. */
  List<Job> jobs() throws IOException {
    List<Job> out = new ArrayList<>();
    for (String app : layout.appNames()) {
      job(app).ifPresent(out::add);
    }
    return out;
  }

  /** The releases of {@code app} that were active, oldest first; the last is the current one's. */
  List<String> history(String app) throws IOException {
    try {
      return List.copyOf(JsonRecords.readStrings(Files.readAllBytes(layout.history(app))));
    } catch (NoSuchFileException e) {
      return List.of();
    }
  }

  /** Records that {@code release} is the active release of {@code app} now (write, fsync, rename). */
  void activated(String app, String release) throws IOException {
    List<String> history = new ArrayList<>(history(app));
    if (!history.isEmpty() && history.get(history.size() - 1).equals(release)) {
      return;
    }
    history.add(release);
    writeHistory(app, history.subList(Math.max(0, history.size() - HISTORY), history.size()));
  }

  /**
   * Records that {@code app} went back to {@code release} (a rollback, or a deployment's revert):
   * what came after its last time in the history is undone, so the release just left is never
   * where the next rollback goes. A release not in the history is recorded as {@link #activated}.
   */
  void returnedTo(String app, String release) throws IOException {
    List<String> history = history(app);
    int at = history.lastIndexOf(release);
    if (at < 0) {
      activated(app, release);
    } else if (at < history.size() - 1) {
      writeHistory(app, history.subList(0, at + 1));
    }
  }

  private void writeHistory(String app, List<String> history) throws IOException {
    SecureFiles.write(layout.history(app), JsonRecords.writeStrings(history), SecureFiles.PUBLIC);
  }

  /**
   * The release that was active before the current one and is still kept here: what a rollback
   * without a version goes back to, whatever the last job was. Releases a rollback left are not
   * in the history any more ({@link #returnedTo}): a second rollback goes further back. Empty when there is none. A host
   * with no history yet (written by an earlier version) falls back to its last completed job.
   */
  String previousRelease(String app) throws IOException {
    String current = currentRelease(app).orElse("");
    List<String> history = history(app);
    for (int i = history.size() - 1; i >= 0; i--) {
      String r = history.get(i);
      if (!r.equals(current) && Files.isDirectory(releaseDir(app, r))) {
        return r;
      }
    }
    if (!history.isEmpty()) {
      return "";
    }
    return job(app).filter(j -> j.phase() == Phase.ACTIVE && j.version().equals(current)).map(Job::previous)
        .filter(p -> !p.isEmpty() && Files.isDirectory(releaseDir(app, p))).orElse("");
  }

  /** Writes {@code job} as the app's state: write, fsync, rename. */
  void persist(Job job) throws IOException {
    Files.createDirectories(layout.releases(job.app()));
    SecureFiles.write(layout.job(job.app()), JsonRecords.write(job), SecureFiles.PUBLIC);
  }

  Manifest manifest(String app, String release) throws IOException {
    return manifestIfPresent(app, release).orElseThrow(() ->
        new IOException("release " + app + "@" + release + " is not on this host"));
  }

  Optional<Manifest> manifestIfPresent(String app, String release) throws IOException {
    Path file = releaseDir(app, release).resolve(Manifest.FILE);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(Manifest.parse(Files.readString(file)));
    } catch (ManifestException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  Path releaseDir(String app, String release) {
    return layout.release(app, release);
  }

  /** Where {@code hook} of release directory {@code release} writes its output: {@code apps/<app>/logs/}. */
  Path hookLog(String app, String release, String hook) throws IOException {
    return Files.createDirectories(layout.logs(app)).resolve(release + "-" + hook + ".log");
  }

  /** Points {@code current} at {@code release}: a new link renamed over the old one, atomic. */
  void switchCurrent(String app, String release) throws IOException {
    Path dir = layout.app(app);
    Path tmp = dir.resolve(".current.tmp");
    Files.deleteIfExists(tmp);
    Files.createSymbolicLink(tmp, Path.of("releases", release));
    Files.move(tmp, layout.current(app), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    HostFiles.syncDir(dir);
  }

  /** In a release directory: the digest of the artifact it was unpacked from. */
  static final String ARTIFACT_FILE = ".rackroll-artifact";

  /** Records in a release directory (or its staging directory) which artifact it came from. */
  static void recordArtifact(Path releaseDir, String digest) throws IOException {
    if (!digest.isEmpty()) {
      SecureFiles.writeString(releaseDir.resolve(ARTIFACT_FILE), digest + "\n", SecureFiles.PUBLIC);
    }
  }

  /**
   * The artifacts this host still needs: those of every kept release (a redeploy of one verifies it
   * against its artifact) and of every unfinished job.
   */
  Set<String> neededArtifacts() throws IOException {
    Set<String> needed = new LinkedHashSet<>();
    for (String app : layout.appNames()) {
      for (Path dir : releaseDirs(app)) {
        Path file = dir.resolve(ARTIFACT_FILE);
        if (Files.exists(file)) {
          needed.add(Files.readString(file).trim());
        }
      }
      job(app).filter(j -> !j.phase().terminal() && !j.digest().isEmpty()).ifPresent(j -> needed.add(j.digest()));
    }
    return needed;
  }

  /**
   * Keeps {@code keepReleases} releases of {@code app}: always the current and the previous one
   * (what a rollback goes back to), then the rest of its history newest first (where further
   * rollbacks go), then the newest others. Run after every job that ends.
   */
  void prune(String app) throws IOException {
    Map<String, Path> dirs = new LinkedHashMap<>();
    for (Path p : releaseDirs(app)) {
      dirs.put(p.getFileName().toString(), p);
    }
    Set<String> ranked = new LinkedHashSet<>();
    ranked.add(currentRelease(app).orElse(""));
    ranked.add(previousRelease(app));
    List<String> history = history(app);
    for (int i = history.size() - 1; i >= 0; i--) {
      ranked.add(history.get(i));
    }
    ranked.addAll(dirs.keySet());
    Set<String> keep = ranked.stream().filter(dirs::containsKey).limit(keepReleases)
        .collect(Collectors.toSet());
    for (Map.Entry<String, Path> r : dirs.entrySet()) {
      if (!keep.contains(r.getKey())) {
        log.info("{}: removing old release {}", app, r.getKey());
        HostFiles.deleteTree(r.getValue());
      }
    }
    // Hook logs live and die with their release: logs/<release>-<hook>.log.
    Path logs = layout.logs(app);
    if (Files.isDirectory(logs)) {
      try (Stream<Path> s = Files.list(logs)) {
        for (Path file : s.toList()) {
          String name = file.getFileName().toString();
          if (keep.stream().noneMatch(r -> name.startsWith(r + "-"))) {
            Files.deleteIfExists(file);
          }
        }
      }
    }
  }
}
