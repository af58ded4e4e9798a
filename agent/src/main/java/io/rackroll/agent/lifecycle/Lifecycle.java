package io.rackroll.agent.lifecycle;

import io.rackroll.release.HostFit;
import io.rackroll.release.Manifest.Requirements;
import io.rackroll.agent.artifact.ArtifactSource;
import io.rackroll.agent.install.Preconditions;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.release.Manifest;
import io.rackroll.wire.Durations;
import io.rackroll.wire.JsonRecords;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts one release onto this host as an explicit state machine: download, verify, check the host,
 * install, activate, check health, and roll back by itself when anything after the switch fails.
 *
 * <p>The runner persists each {@link Job} (phase plus the data the next step needs, one atomic
 * file replace) before it acts on it, so a SIGKILL at any point leaves a state {@link #recover()}
 * knows how to finish: {@code current} always points at a complete release.
 *
 * <p>This class takes jobs in (a deploy, a rollback, a command sent again), runs them and
 * recovers them after a restart; each phase's work is a {@link Step} of its own, what the host
 * holds is read through {@link InstalledReleases}, and its files are laid out by {@link HostLayout}.
 *
 * <p>Blocking: runs on the agent's lifecycle thread.
 */
public final class Lifecycle {
  private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);
  /** Entries of one persisted phase across restarts before the job gives up instead of looping. */
  static final int MAX_ENTRIES = 3;

  private final InstalledReleases releases;
  private final Clock clock;
  private final Listener listener;
  private final Flags flags;
  private final HealthReports health;
  /** The artifact of the job being run; cleared when a job starts. */
  private final JobArtifact artifact;
  /** The work of each phase that is not terminal. */
  private final Map<Phase, Step> steps = new EnumMap<>(Phase.class);
  private volatile SignaturePolicy signatures = (app, version, digest, signature) -> Optional.empty();
  /** Where artifacts come from, and are forgotten when nothing needs them. */
  private final ArtifactSource artifacts;
  /** Where ends the apps' disk refused are noted; null for none. */
  private final Path unrecorded;
  /** This host as a release's requires see it, read when asked. */
  private final Supplier<HostFit.Host> host;
  /** Where releases install: the free space a release needs is read there. */
  private final Path apps;
  /** Set by {@link #stop}: the job being run stops at its next step boundary. */
  private volatile boolean stopping;
  /** Counted down by {@link #stop}: ends a download's wait for its controller at once. */
  private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);

  public Lifecycle(Path apps, ArtifactSource artifacts, Supplier<HostFit.Host> host, Map<String, String> labels,
      int keepReleases, Clock clock, Listener listener) {
    this(apps, null, artifacts, host, labels, keepReleases, clock, listener);
  }

  /**
   * @param unrecorded a directory on another file system (the agent's runtime directory, a tmpfs)
   *     where a job's end that the apps' disk refused is noted, so that a restart does not resume a
   *     job the controller was told had failed; null for none
   */
  public Lifecycle(Path apps, Path unrecorded, ArtifactSource artifacts, Supplier<HostFit.Host> host,
      Map<String, String> labels, int keepReleases, Clock clock, Listener listener) {
    this.unrecorded = unrecorded;
    this.host = host;
    this.apps = apps;
    if (keepReleases < 2) {
      throw new IllegalArgumentException("keepReleases: " + keepReleases + " (expected: >= 2, so rollback never downloads)");
    }
    HostLayout layout = new HostLayout(apps);
    this.releases = new InstalledReleases(layout, keepReleases);
    this.clock = clock;
    this.listener = listener;
    HookRunner hooks = new HookRunner(labels);
    HealthProbe probe = new HealthProbe();
    this.flags = new Flags(releases, hooks, probe, clock, listener::flags);
    this.health = new HealthReports(releases, probe, clock);
    this.artifacts = artifacts;
    this.artifact = new JobArtifact(artifacts, listener);
    pauseDownloadsWith(wait -> stopped.await(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS));
    steps.put(Phase.VERIFYING, new VerifyStep(artifact, clock));
    steps.put(Phase.CHECKING_HOST, new CheckHostStep(artifact, host, apps, clock));
    steps.put(Phase.INSTALLING, new InstallStep(releases, artifact, flags, hooks, clock));
    steps.put(Phase.ACTIVATING, new ActivateStep(releases, hooks, clock));
    steps.put(Phase.CHECKING_HEALTH, new CheckHealthStep(releases, probe, clock));
    steps.put(Phase.ROLLING_BACK, new RollBackStep(releases, hooks, probe, clock));
    for (Phase p : Phase.values()) {
      if (p.terminal() == steps.containsKey(p)) {
        throw new IllegalStateException("phase " + p + (p.terminal() ? " is terminal but has a step" : " has no step"));
      }
    }
  }

  /** How a download waits between two attempts: the real wait, or a test's. */
  /** Judges each release's signature before it is downloaded (by default: every release passes). */
  public void checkSignaturesWith(SignaturePolicy policy) {
    this.signatures = policy;
  }

  /** The host's rule on release signatures. */
  @FunctionalInterface
  public interface SignaturePolicy {
    /** Why the host refuses {@code app@version} with artifact {@code digest} and {@code signature}; empty: it may install it. */
    Optional<String> refusal(String app, String version, String digest, String signature);
  }

  void pauseDownloadsWith(DownloadStep.Pause pause) {
    steps.put(Phase.DOWNLOADING, new DownloadStep(artifact, clock, pause));
  }

  /**
   * The runtime flags of this host's apps, run with this lifecycle's hooks and health checks; each
   * change is told to the listener's {@link Listener#flags}.
   */
  public Flags flags() {
    return flags;
  }

  /** What this host holds of each app: its current and kept releases, its last job. */
  InstalledReleases releases() {
    return releases;
  }

  /** One round of an active app's health checks, for the periodic report. */
  HealthReports health() {
    return health;
  }

  /** Told of every job transition, as persisted, and of a download's progress in between. */
  @FunctionalInterface
  public interface Listener {
    void transition(Job job);

    /** While {@code job} is DOWNLOADING: the host holds {@code bytes} of its artifact. */
    default void downloaded(Job job, long bytes) {
    }

    /** Each step of a flag change of an app, as persisted, the first flags an install gives it included. */
    default void flags(Flags.Change change) {
    }
  }

  /** Deploys {@code app@version} (artifact {@code digest}, {@code size} bytes) without configuration. */
  public Job deploy(String deploymentId, String app, String version, String digest, long size)
      throws IOException, InterruptedException {
    return deploy(deploymentId, app, version, digest, size, 0, 0, ReleaseConfig.NONE, Requirements.NONE);
  }

  /** As below, for an artifact whose unpacked figures are not known (tests, older controllers). */
  Job deploy(String deploymentId, String app, String version, String digest, long size, ReleaseConfig config)
      throws IOException, InterruptedException {
    return deploy(deploymentId, app, version, digest, size, 0, 0, config, Requirements.NONE);
  }

  /**
   * Deploys {@code app@version} (artifact {@code digest}, {@code size} bytes, unpacking to
   * {@code unpackedBytes} in {@code unpackedEntries} entries as recorded at push) to its end, its
   * templates rendered and hooks run with {@code config}, which stays with the release. A host that
   * fails the release's {@code requires} (as the controller sent them) refuses before it downloads;
   * the manifest's own are checked again once the artifact is here.
   */
  Job deploy(String deploymentId, String app, String version, String digest, long size, long unpackedBytes,
      long unpackedEntries, ReleaseConfig config, Requirements requires)
      throws IOException, InterruptedException {
    return deploy(deploymentId, app, version, digest, size, unpackedBytes, unpackedEntries, config, requires, "");
  }

  /**
   * As above, for a release with {@code signature} (its text; empty: unsigned), which the host's
   * signature policy judges before anything is downloaded: a release it refuses never touches
   * the disk.
   */
  Job deploy(String deploymentId, String app, String version, String digest, long size, long unpackedBytes,
      long unpackedEntries, ReleaseConfig config, Requirements requires, String signature)
      throws IOException, InterruptedException {
    Optional<Job> done = alreadyRan(deploymentId, app, version);
    if (done.isPresent()) {
      return done.get();
    }
    String release = releaseFor(app, version, config.digest());
    String previous = releases.currentRelease(app).orElse("");
    if (previous.equals(release)) {
      previous = releases.previousRelease(app);
    }
    Job job = new Job(deploymentId, app, release, digest, size, previous, Phase.DOWNLOADING, 0, "", "", clock.millis(),
        unpackedBytes, unpackedEntries);
    Optional<String> unsigned = signatures.refusal(app, version, digest, signature);
    if (unsigned.isPresent()) {
      return run(job.failing(Phase.FAILED, "refused", unsigned.get(), clock.millis()));
    }
    List<String> refusals = Preconditions.refusals(requires, host.get(), apps, unpackedBytes);
    if (!refusals.isEmpty()) {
      return run(job.failing(Phase.FAILED, "refused", String.join("; ", refusals) + " (checked before the download)",
          clock.millis()));
    }
    try {
      // Before the job is recorded: a job resumed after a crash installs with what it was sent.
      config.write(Files.createDirectories(releases.layout().app(app)));
    } catch (IOException e) {
      return cannotRecord(job, e);
    }
    return run(job);
  }

  /**
   * The directory {@code version} installs into with configuration {@code configDigest}: its
   * plain name unless that holds the version installed with other values, so that a reconfigure
   * is a new release beside the old one (see {@link Releases}).
   */
  private String releaseFor(String app, String version, String configDigest) throws IOException {
    Path plain = releases.releaseDir(app, version);
    if (!Files.isDirectory(plain) || releases.configDigestOf(app, version).equals(configDigest)) {
      return version;
    }
    return Releases.configured(version, configDigest);
  }

  /**
   * Switches {@code app} back to a release still kept here ({@code toVersion}, or the one before
   * the current release when empty), with the same activation and health verification as a deploy.
   * No download: a rollback starts at ACTIVATING. If the target is not healthy, the host returns to
   * the release it ran before the rollback.
   */
  public Job rollback(String deploymentId, String app, String toVersion) throws IOException, InterruptedException {
    return rollback(deploymentId, app, toVersion, "");
  }

  /**
   * As {@link #rollback(String, String, String)}, to the kept release of {@code toVersion} installed
   * with configuration {@code configDigest} when that is not empty: how a reconfigure is undone.
   */
  public Job rollback(String deploymentId, String app, String toVersion, String configDigest)
      throws IOException, InterruptedException {
    Optional<Job> done = alreadyRan(deploymentId, app, null);
    if (done.isPresent()) {
      return done.get();
    }
    String current = releases.currentRelease(app).orElse("");
    String target = configDigest.isEmpty() || toVersion.isEmpty() ? rollbackTarget(app, toVersion, current)
        : configuredTarget(app, toVersion, configDigest);
    if (target.isEmpty() || !Files.isDirectory(releases.releaseDir(app, target))) {
      String why = target.isEmpty() ? app + " has no previous release on this host to roll back to"
          : app + "@" + target + " is not kept on this host (kept: " + String.join(", ", releases.keptVersions(app))
              + "); deploy it instead";
      Job refused = new Job(deploymentId, app, target, "", 0, current, Phase.FAILED, 0, "refused", why, clock.millis());
      listener.transition(refused);
      return refused;
    }
    if (target.equals(current)) {
      Job same = new Job(deploymentId, app, target, "", 0, current, Phase.ACTIVE, 0, "", "", clock.millis());
      releases.persist(same);
      listener.transition(same);
      return same;
    }
    return run(new Job(deploymentId, app, target, "", 0, current, Phase.ACTIVATING, 0, "", "", clock.millis()));
  }

  /**
   * The release directory a rollback to {@code version} means: the one before the current release
   * when empty or when that one is of {@code version}; the current one when it is of it (nothing
   * to do); else the newest kept of that version. Empty when there is none.
   */
  private String rollbackTarget(String app, String version, String current) throws IOException {
    String before = releases.previousRelease(app);
    if (version.isEmpty()) {
      return before;
    }
    if (!before.isEmpty() && Releases.versionOf(before).equals(version)) {
      return before;
    }
    if (Releases.versionOf(current).equals(version)) {
      return current;
    }
    return releases.keptReleases(app).stream().filter(r -> Releases.versionOf(r).equals(version)).findFirst().orElse(version);
  }

  /** The kept release of {@code version} installed with {@code configDigest}, else its plain name. */
  private String configuredTarget(String app, String version, String configDigest) throws IOException {
    for (String r : releases.keptReleases(app)) {
      if (Releases.versionOf(r).equals(version) && releases.configDigestOf(app, r).equals(configDigest)) {
        return r;
      }
    }
    return rollbackTarget(app, version, releases.currentRelease(app).orElse(""));
  }

  /**
   * A command the controller sends again (after its own restart it cannot know whether the first
   * one arrived) must not install twice: if this host's last job of {@code app} belongs to the
   * same deployment (and version, for a deploy), that job is reported again instead.
   */
  private Optional<Job> alreadyRan(String deploymentId, String app, String version) throws IOException {
    Optional<Job> last = releases.job(app).filter(j -> !deploymentId.isEmpty() && j.deploymentId().equals(deploymentId)
        && (version == null || Releases.versionOf(j.version()).equals(version)) && j.phase().terminal());
    if (last.isPresent()) {
      log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, deploymentId)
          .log("{}: {} already ran here ({}); reporting it again", app, deploymentId, last.get().phase());
      listener.transition(last.get());
    }
    return last;
  }

  /**
   * Finishes every job a restart interrupted. What each persisted phase means after a crash:
   */
  public List<Job> recover() throws IOException, InterruptedException {
    List<Job> done = new ArrayList<>();
    for (String app : releases.layout().appNames()) {
      // A hook the agent before this one was running may still run: end it before any step
      // touches its files or runs it again (never two runs of a hook at once).
      HookRunner.endLeftovers(releases.layout().app(app).resolve(HostLayout.HOOK));
    }
    for (String app : releases.layout().appNames()) {
      Optional<Job> persisted = releases.job(app);
      if (persisted.isEmpty() || persisted.get().phase().terminal()) {
        continue;
      }
      Optional<Job> ended = unrecordedEnd(persisted.get());
      if (ended.isPresent()) {
        // The job ended here already (the controller was told); the disk refused to record it.
        log.atWarn().addKeyValue(ServiceLogging.DEPLOYMENT, ended.get().deploymentId())
            .log("{}@{}: recording the end the disk refused before the restart: {}", app, ended.get().version(),
                ended.get().phase());
        releases.persist(ended.get());
        listener.transition(ended.get());
        done.add(ended.get());
        continue;
      }
      boolean clean = persisted.get().stopped();
      Job job = persisted.get().reentered(clock.millis());
      log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, job.deploymentId())
          .log("{}@{}: resuming after {} in {} (entry {})", job.app(), job.version(),
              clean ? "a clean stop" : "restart", job.phase(), job.entries());
      if (clean) {
        // Stopped between steps: nothing of this phase ran, so it runs as if nothing happened.
      } else if (job.entries() > MAX_ENTRIES) {
        job = loopDetected(job);
      } else {
        job = switch (job.phase()) {
          // No change to the host yet (downloads resume from the partial file): just go on.
          case DOWNLOADING, VERIFYING, CHECKING_HOST -> job;
          // The release directory only appears by rename once complete; the step clears partial staging.
          case INSTALLING -> job;
          // A switch to a kept release (a rollback, a revert) goes on to its target: that release ran
          // here before, and going "back" would return to the one being removed.
          case ACTIVATING -> job.switchOnly() ? job
              // An install: current may point at either release and hooks may be half-run; undo.
              : job.failing(Phase.ROLLING_BACK, "interrupted", "agent restarted during activation of " + job.version(),
                  clock.millis());
          // The switch is complete: check health again from the start.
          case CHECKING_HEALTH -> job;
          // Rolling back is idempotent: finish it.
          case ROLLING_BACK -> job;
          default -> job.failing(Phase.FAILED, "interrupted", "unknown state after restart", clock.millis());
        };
      }
      done.add(run(job));
    }
    return done;
  }

  private Job loopDetected(Job job) {
    String why = job.ref() + " entered " + job.phase() + " " + job.entries()
        + " times across restarts; giving up to stop a crash loop";
    return switch (job.phase()) {
      case ACTIVATING, CHECKING_HEALTH -> job.failing(Phase.ROLLING_BACK, "crashed_loop", why, clock.millis());
      default -> job.failing(Phase.FAILED, "crashed_loop", why, clock.millis());
    };
  }

  /**
   * The runner: persist, report, then handle; until a terminal phase. A disk that refuses the
   * state file or a step's files (full, read-only, failing) ends the job with that reason, reported
   * even when it cannot be persisted: the operator must read "read-only file system", not silence.
   */
  private Job run(Job job) throws InterruptedException {
    artifact.reset();
    while (true) {
      try {
        releases.persist(job);
      } catch (IOException e) {
        return cannotRecord(job, e);
      }
      listener.transition(job);
      if (!job.phase().terminal() && stopping) {
        Job stopped = job.stoppedBeforeStep();
        try {
          releases.persist(stopped);
        } catch (IOException e) {
          log.warn("{}@{}: cannot record the clean stop: {}", job.app(), job.version(), e.getMessage());
        }
        log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, job.deploymentId())
            .log("{}@{}: stopping before {}; a restart goes on from there", job.app(), job.version(), job.phase());
        return stopped;
      }
      if (job.phase().terminal()) {
        log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, job.deploymentId())
            .log("{}@{}: {}{}", job.app(), job.version(), job.phase(), job.failure().isEmpty() ? "" : ": " + job.failure());
        ended(job);
        return job;
      }
      try {
        job = steps.get(job.phase()).run(job);
      } catch (IOException e) {
        // Once current may have moved, going back is the only safe end; before that nothing changed.
        boolean switched = job.phase() == Phase.ACTIVATING || job.phase() == Phase.CHECKING_HEALTH;
        String why = job.phase() == Phase.ROLLING_BACK
            ? job.failure() + "; rollback to " + job.previous() + " failed: " + e.getMessage()
            : job.phase().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + " of " + job.ref() + " failed: " + e.getMessage();
        job = job.failing(switched ? Phase.ROLLING_BACK : Phase.FAILED, HostFiles.diskKind(e), why, clock.millis());
      }
    }
  }

  /** What a rollback a host does by itself within a release's bake time appends to its deployment's id. */
  public static final String BAKE = ":bake";

  /**
   * The bake: {@code app}'s current release turned unhealthy (its periodic health report) within
   * its manifest's {@code health.bake} after the install that activated it; the host rolls back to
   * its release before by itself, reported under the deployment's id with {@link #BAKE} appended.
   * After the bake time, or for a switch to a kept release (itself a way back), nothing happens:
   * a host never changes releases by itself then.
   */
  Optional<Job> bakeFailed(String app) throws IOException, InterruptedException {
    Optional<Job> last = releases.job(app);
    if (last.isEmpty() || last.get().phase() != Phase.ACTIVE || last.get().switchOnly()
        || last.get().previous().isEmpty() || last.get().deploymentId().endsWith(BAKE)) {
      return Optional.empty();
    }
    Job job = last.get();
    Optional<Manifest> m = releases.manifestIfPresent(app, job.version());
    Duration bake = m.map(x -> x.health().bake()).orElse(Duration.ZERO);
    if (bake.isZero() || clock.millis() >= job.updatedAtMillis() + bake.toMillis()
        || !releases.currentRelease(app).orElse("").equals(job.version())) {
      return Optional.empty();
    }
    log.atWarn().addKeyValue(ServiceLogging.DEPLOYMENT, job.deploymentId())
        .log("{}: unhealthy within its {} bake time; rolling back to {} by itself", job.ref(),
            Durations.format(bake), job.previous());
    return Optional.of(rollback(job.deploymentId() + BAKE, app, Releases.versionOf(job.previous()),
        releases.configDigestOf(app, job.previous())));
  }

  /**
   * Asks the job being run to stop at its next step boundary (the agent is being stopped): the
   * step under way finishes, its result is recorded, and the next step is left to the restart.
   */
  public void stop() {
    stopping = true;
    stopped.countDown();
  }

  /**
   * After every job that ends, whichever way: the release now active goes into the app's history
   * (a rollback that arrived goes back in it), releases beyond the kept number go with their hook
   * logs, and cached artifacts no kept release or unfinished job needs go. Neither changes the job's outcome; a disk that refuses
   * them is logged and they are done after the next job.
   */
  private void ended(Job job) {
    try {
      Optional<String> active = releases.currentRelease(job.app());
      if (active.isPresent() && job.switchOnly() && job.phase() == Phase.ACTIVE) {
        releases.returnedTo(job.app(), active.get());
      } else if (active.isPresent()) {
        releases.activated(job.app(), active.get());
      }
      releases.prune(job.app());
      artifacts.keepOnly(releases.neededArtifacts());
    } catch (IOException e) {
      log.atWarn().addKeyValue(ServiceLogging.DEPLOYMENT, job.deploymentId())
          .log("{}: cannot record the release history or prune old releases: {}", job.app(), e.getMessage());
    }
  }

  /** The job ends FAILED, reported though it cannot be persisted (a read-only or full disk). */
  private Job cannotRecord(Job job, IOException e) {
    Job failed = job.phase().terminal() ? job : job.failing(Phase.FAILED, HostFiles.diskKind(e), job.app() + "@"
        + job.version() + ": cannot record its state: " + e.getMessage(), clock.millis());
    log.atError().addKeyValue(ServiceLogging.DEPLOYMENT, failed.deploymentId()).log("{}", failed.failure());
    if (unrecorded != null) {
      try {
        Files.createDirectories(unrecorded);
        Files.write(unrecorded.resolve(failed.app() + ".json"), JsonRecords.write(failed));
      } catch (IOException again) {
        log.warn("{}: cannot note the unrecorded end in {} either: {}", failed.app(), unrecorded, again.getMessage());
      }
    }
    listener.transition(failed);
    return failed;
  }

  /**
   * The end of {@code persisted}'s job the apps' disk refused to record, if the runtime directory
   * holds it: the job ended there and must not be resumed as if nothing happened.
   */
  private Optional<Job> unrecordedEnd(Job persisted) throws IOException {
    if (unrecorded == null) {
      return Optional.empty();
    }
    Path note = unrecorded.resolve(persisted.app() + ".json");
    if (!Files.exists(note)) {
      return Optional.empty();
    }
    Job end = JsonRecords.read(Files.readAllBytes(note), Job.class);
    Files.delete(note);
    return end.deploymentId().equals(persisted.deploymentId()) && end.version().equals(persisted.version())
        ? Optional.of(end) : Optional.empty();
  }
}
