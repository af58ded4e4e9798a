package io.rackroll.agent.lifecycle;

import io.rackroll.logging.ServiceLogging;
import io.rackroll.release.FlagValues;
import io.rackroll.release.Manifest;
import io.rackroll.release.Manifest.HookPoint;
import io.rackroll.trust.SecureFiles;
import io.rackroll.wire.JsonRecords;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An app's runtime flags on this host: {@code apps/<app>/flags.json}, which every release
 * directory links as {@code flags.json}, so a running release reads the current set wherever it
 * looks. A change is written before it is acted on ({@code apps/<app>/flags-change.json}: the
 * flags before and after, and how far it got), then the flags file is replaced atomically, the
 * release's {@code flagsChanged} hook runs and its health checks must pass; when either fails the
 * host puts the flags back by itself. A restart in the middle puts them back too.
 *
 * <p>Blocking: runs on the agent's lifecycle thread, between jobs.
 */
final class Flags {
  private static final Logger log = LoggerFactory.getLogger(Flags.class);
  /** The app's flags: in the app's directory, and linked from each release directory. */
  public static final String FILE = HostLayout.FLAGS;

  private final HostLayout layout;
  private final InstalledReleases releases;
  private final HookRunner hooks;
  private final HealthProbe health;
  private final Clock clock;
  private final Listener listener;

  /** Told of every step of a change, as persisted. */
  @FunctionalInterface
  public interface Listener {
    void changed(Change change);
  }

  /**
   * One flag change of an app, as persisted.
   *
   * @param phase APPLYING, then ACTIVE, ROLLED_BACK (the flags before are back) or FAILED
   * @param before the flags before the change, to put back
   * @param after the flags the change sets
   */
  public record Change(String deploymentId, String app, FlagPhase phase, Map<String, String> before,
      Map<String, String> after, String failureKind, String failure, long atMillis) {
    public Change {
      before = new TreeMap<>(before);
      after = new TreeMap<>(after);
    }

    boolean ended() {
      return phase.ended();
    }

    /** The same change in phase {@code next}, checked against {@link FlagPhase}'s table. */
    Change to(FlagPhase next, String kind, String why, long at) {
      phase.checkTransition(next);
      return new Change(deploymentId, app, next, before, after, kind, why, at);
    }
  }

  Flags(InstalledReleases releases, HookRunner hooks, HealthProbe health, Clock clock, Listener listener) {
    this.layout = releases.layout();
    this.releases = releases;
    this.hooks = hooks;
    this.health = health;
    this.clock = clock;
    this.listener = listener;
  }

  /** The app's flags now; empty when none were ever set. */
  public Map<String, String> current(String app) throws IOException {
    try {
      return FlagValues.fromJson(Files.readString(layout.flags(app)));
    } catch (NoSuchFileException e) {
      return Map.of();
    } catch (IllegalArgumentException e) {
      throw new IOException(layout.flags(app) + ": " + e.getMessage(), e);
    }
  }

  /** The last change of {@code app}, if any. */
  public Optional<Change> last(String app) throws IOException {
    try {
      return Optional.of(JsonRecords.read(Files.readAllBytes(layout.flagChange(app)), Change.class));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /** The last change of every app, for the report after a reconnect. */
  public List<Change> lastChanges() throws IOException {
    List<Change> out = new java.util.ArrayList<>();
    for (String app : layout.appNames()) {
      last(app).ifPresent(out::add);
    }
    return out;
  }

  /** Applies {@code changes} (a {@code null} value removes a flag) to {@code app}'s flags. */
  public Change set(String deploymentId, String app, Map<String, String> changes) throws IOException, InterruptedException {
    Optional<Change> again = sameDeployment(deploymentId, app);
    if (again.isPresent()) {
      return again.get();
    }
    Map<String, String> before = current(app);
    Change change = new Change(deploymentId, app, FlagPhase.APPLYING, before, FlagValues.merge(before, changes), "", "",
        clock.millis());
    if (releases.currentRelease(app).isEmpty()) {
      return record(change.to(FlagPhase.FAILED, "refused", app + " is not installed on this host; deploy it first",
          clock.millis()));
    }
    return apply(change);
  }

  /**
   * Puts back the flags the host had before deployment {@code revertOf} changed them; nothing to
   * do (reported ACTIVE with the flags as they are) when that change did not apply here or was
   * undone already.
   */
  public Change revert(String deploymentId, String app, String revertOf) throws IOException, InterruptedException {
    Optional<Change> again = sameDeployment(deploymentId, app);
    if (again.isPresent()) {
      return again.get();
    }
    Map<String, String> now = current(app);
    Optional<Change> last = last(app);
    if (last.isEmpty() || !last.get().deploymentId().equals(revertOf) || last.get().phase() != FlagPhase.ACTIVE
        || releases.currentRelease(app).isEmpty()) {
      return record(new Change(deploymentId, app, FlagPhase.ACTIVE, now, now, "", "", clock.millis()));
    }
    return apply(new Change(deploymentId, app, FlagPhase.APPLYING, now, last.get().before(), "", "", clock.millis()));
  }

  /**
   * Gives {@code app} its first flags, {@code initial} (its environment's), when the host has none
   * of its own yet; a host that has flags keeps them. Recorded, and so reported, before the file is
   * written: a crash in between leaves no file, and the install that resumes starts them again.
   */
  void start(String deploymentId, String app, Map<String, String> initial) throws IOException {
    if (initial.isEmpty() || Files.exists(layout.flags(app))) {
      return;
    }
    record(new Change(deploymentId, app, FlagPhase.ACTIVE, Map.of(), initial, "", "", clock.millis()));
    write(app, initial);
  }

  /** Finishes a change a restart interrupted: its flags are put back. */
  public void recover() throws IOException, InterruptedException {
    for (Change c : lastChanges()) {
      if (!c.ended()) {
        log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, c.deploymentId())
            .log("{}: flag change interrupted by a restart; putting the flags back", c.app());
        putBack(c.to(FlagPhase.APPLYING, "interrupted", "agent restarted while changing the flags of " + c.app(),
            clock.millis()));
      }
    }
  }

  private Optional<Change> sameDeployment(String deploymentId, String app) throws IOException {
    Optional<Change> last = last(app).filter(c -> c.deploymentId().equals(deploymentId) && c.ended());
    last.ifPresent(listener::changed); // sent again after a controller restart: report, do not redo
    return last;
  }

  private Change apply(Change change) throws IOException, InterruptedException {
    record(change);
    String release = releases.currentRelease(change.app()).orElseThrow();
    Path dir = releases.releaseDir(change.app(), release);
    try {
      write(change.app(), change.after());
      link(dir);
      flagsChanged(change, release, dir);
    } catch (HookRunner.HookFailed e) {
      return putBack(change.to(FlagPhase.APPLYING, e.timedOut ? "hook_timed_out" : "hook_failed", e.getMessage(), clock.millis()));
    } catch (IOException e) {
      return putBack(change.to(FlagPhase.APPLYING, "io_error", "changing the flags of " + change.app() + " failed: "
          + e.getMessage(), clock.millis()));
    }
    Optional<Manifest> m = releases.manifestIfPresent(change.app(), release);
    if (m.isPresent()) {
      HealthProbe.Verdict v = health.await(m.get().health(), dir);
      if (!v.healthy()) {
        return putBack(change.to(FlagPhase.APPLYING, "health_failed", change.app() + " with flags "
            + FlagValues.show(change.after()) + ": " + v.detail(), clock.millis()));
      }
    }
    return record(change.to(FlagPhase.ACTIVE, "", "", clock.millis()));
  }

  /** The flags before go back and the hook runs again; the change ends ROLLED_BACK (FAILED if even that fails). */
  private Change putBack(Change failed) throws IOException, InterruptedException {
    write(failed.app(), failed.before());
    Optional<String> release = releases.currentRelease(failed.app());
    if (release.isPresent()) {
      try {
        flagsChanged(failed, release.get(), releases.releaseDir(failed.app(), release.get()));
      } catch (HookRunner.HookFailed e) {
        return record(failed.to(FlagPhase.FAILED, failed.failureKind(), failed.failure() + "; flags put back but "
            + e.getMessage(), clock.millis()));
      }
    }
    return record(failed.to(FlagPhase.ROLLED_BACK, failed.failureKind(), failed.failure() + "; flags put back",
        clock.millis()));
  }

  private void flagsChanged(Change change, String release, Path dir)
      throws HookRunner.HookFailed, IOException, InterruptedException {
    Optional<Manifest.Hook> hook = releases.manifestIfPresent(change.app(), release)
        .flatMap(m -> m.hook(HookPoint.FLAGS_CHANGED));
    if (hook.isPresent()) {
      hooks.run("flagsChanged", hook.get(), change.app(), release, dir, "",
          releases.hookLog(change.app(), release, "flagsChanged"));
    }
  }

  private Change record(Change change) throws IOException {
    SecureFiles.write(layout.flagChange(change.app()), JsonRecords.write(change),
        SecureFiles.PUBLIC);
    if (change.ended()) {
      log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, change.deploymentId()).log("{}: flags {}{}", change.app(),
          change.phase(), change.failure().isEmpty() ? " " + FlagValues.show(change.after()) : ": " + change.failure());
    }
    listener.changed(change);
    return change;
  }

  private void write(String app, Map<String, String> flags) throws IOException {
    SecureFiles.writeString(layout.flags(app), FlagValues.toJson(flags), SecureFiles.PUBLIC);
  }

  /**
   * Makes {@code releaseDir/flags.json} a link to the app's flags file (creating an empty set when
   * there is none yet), replacing any file of that name the artifact brought: the agent owns it.
   */
  static void link(Path releaseDir) throws IOException {
    Path app = HostLayout.appOf(releaseDir);
    if (!Files.exists(app.resolve(FILE))) {
      SecureFiles.writeString(app.resolve(FILE), "{}\n", SecureFiles.PUBLIC);
    }
    Path link = releaseDir.resolve(FILE);
    Path ours = Path.of("..", "..", FILE);
    if (Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(ours)) {
      return;
    }
    if (Files.isDirectory(link, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("the release brings a directory named " + FILE + "; that name belongs to the agent in"
          + " every release (remove it from the artifact)");
    }
    Files.deleteIfExists(link);
    Files.createSymbolicLink(link, ours);
  }
}
