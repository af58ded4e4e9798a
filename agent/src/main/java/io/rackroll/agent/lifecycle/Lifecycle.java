package io.rackroll.agent.lifecycle;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.rackroll.agent.artifact.ArtifactCache.DownloadException;
import io.rackroll.agent.artifact.ArtifactSource;
import io.rackroll.agent.install.Preconditions;
import io.rackroll.agent.install.ReleaseTree;
import io.rackroll.agent.install.Unpacker;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.release.Artifact;
import io.rackroll.release.Manifest;
import io.rackroll.release.Template;
import io.rackroll.release.Manifest.HookPoint;
import io.rackroll.release.ManifestException;
import io.rackroll.trust.SecureFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;
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
 * <p>On-host layout: see {@link HostLayout}.
 *
 * <p>Blocking: runs on the agent's lifecycle thread.
 */
public final class Lifecycle {
  private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);
  /** Entries of one persisted phase across restarts before the job gives up instead of looping. */
  static final int MAX_ENTRIES = 3;
  private static final ObjectMapper JSON = new ObjectMapper();
  /** In a release directory: unpacked and postInstall succeeded. */
  static final String INSTALLED = ".rackroll-installed";

  private final Path apps;
  private final HostLayout layout;
  private final ArtifactSource artifacts;
  private final Supplier<Preconditions.Host> host;
  private final HookRunner hooks;
  private final HealthProbe health = new HealthProbe();
  private final int keepReleases;
  private final Clock clock;
  private final Listener listener;
  private final Flags flags;
  /**
   * The artifact verified for the job being run and what inspecting it found, so one job hashes
   * and scans it once, not once per step. Cleared when a job starts: every job verifies afresh.
   * Confined to the thread running jobs.
   */
  private String verifiedDigest;
  private Path verifiedPath;
  private Artifact inspected;

  public Lifecycle(Path apps, ArtifactSource artifacts, Supplier<Preconditions.Host> host, Map<String, String> labels,
      int keepReleases, Clock clock, Listener listener) {
    if (keepReleases < 2) {
      throw new IllegalArgumentException("keepReleases: " + keepReleases + " (expected: >= 2, so rollback never downloads)");
    }
    this.apps = apps;
    this.layout = new HostLayout(apps);
    this.artifacts = artifacts;
    this.host = host;
    this.hooks = new HookRunner(labels);
    this.keepReleases = keepReleases;
    this.clock = clock;
    this.listener = listener;
    this.flags = new Flags(apps, this, hooks, health, clock, listener::flags);
  }

  /**
   * The runtime flags of this host's apps, run with this lifecycle's hooks and health checks; each
   * change is told to the listener's {@link Listener#flags}.
   */
  public Flags flags() {
    return flags;
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
    return deploy(deploymentId, app, version, digest, size, 0, 0, ReleaseConfig.NONE);
  }

  /** As below, for an artifact whose unpacked figures are not known (tests, older controllers). */
  Job deploy(String deploymentId, String app, String version, String digest, long size, ReleaseConfig config)
      throws IOException, InterruptedException {
    return deploy(deploymentId, app, version, digest, size, 0, 0, config);
  }

  /**
   * Deploys {@code app@version} (artifact {@code digest}, {@code size} bytes, unpacking to
   * {@code unpackedBytes} in {@code unpackedEntries} entries as recorded at push) to its end, its
   * templates rendered and hooks run with {@code config}, which stays with the release.
   */
  Job deploy(String deploymentId, String app, String version, String digest, long size, long unpackedBytes,
      long unpackedEntries, ReleaseConfig config)
      throws IOException, InterruptedException {
    Optional<Job> done = alreadyRan(deploymentId, app, version);
    if (done.isPresent()) {
      return done.get();
    }
    String release = releaseFor(app, version, config.digest());
    String previous = currentRelease(app).orElse("");
    if (previous.equals(release)) {
      previous = job(app).filter(j -> j.phase() == Phase.ACTIVE).map(Job::previous).orElse("");
    }
    Job job = new Job(deploymentId, app, release, digest, size, previous, Phase.DOWNLOADING, 0, "", "", clock.millis(),
        unpackedBytes, unpackedEntries);
    try {
      // Before the job is recorded: a job resumed after a crash installs with what it was sent.
      config.write(Files.createDirectories(layout.app(app)));
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
    Path plain = releaseDir(app, version);
    if (!Files.isDirectory(plain) || configDigestOf(app, version).equals(configDigest)) {
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
    String current = currentRelease(app).orElse("");
    String target = configDigest.isEmpty() || toVersion.isEmpty() ? rollbackTarget(app, toVersion, current)
        : configuredTarget(app, toVersion, configDigest);
    if (target.isEmpty() || !Files.isDirectory(releaseDir(app, target))) {
      String why = target.isEmpty() ? app + " has no previous release on this host to roll back to"
          : app + "@" + target + " is not kept on this host (kept: " + String.join(", ", keptVersions(app))
              + "); deploy it instead";
      Job refused = new Job(deploymentId, app, target, "", 0, current, Phase.FAILED, 0, "refused", why, clock.millis());
      listener.transition(refused);
      return refused;
    }
    if (target.equals(current)) {
      Job same = new Job(deploymentId, app, target, "", 0, current, Phase.ACTIVE, 0, "", "", clock.millis());
      persist(same);
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
    String before = job(app).map(j -> j.phase() == Phase.ACTIVE ? j.previous() : "").orElse("");
    if (version.isEmpty()) {
      return before;
    }
    if (!before.isEmpty() && Releases.versionOf(before).equals(version)) {
      return before;
    }
    if (Releases.versionOf(current).equals(version)) {
      return current;
    }
    return keptReleases(app).stream().filter(r -> Releases.versionOf(r).equals(version)).findFirst().orElse(version);
  }

  /** The kept release of {@code version} installed with {@code configDigest}, else its plain name. */
  private String configuredTarget(String app, String version, String configDigest) throws IOException {
    for (String r : keptReleases(app)) {
      if (Releases.versionOf(r).equals(version) && configDigestOf(app, r).equals(configDigest)) {
        return r;
      }
    }
    return rollbackTarget(app, version, currentRelease(app).orElse(""));
  }

  /**
   * A command the controller sends again (after its own restart it cannot know whether the first
   * one arrived) must not install twice: if this host's last job of {@code app} belongs to the
   * same deployment (and version, for a deploy), that job is reported again instead.
   */
  private Optional<Job> alreadyRan(String deploymentId, String app, String version) throws IOException {
    Optional<Job> last = job(app).filter(j -> !deploymentId.isEmpty() && j.deploymentId().equals(deploymentId)
        && (version == null || Releases.versionOf(j.version()).equals(version)) && j.phase().terminal());
    if (last.isPresent()) {
      log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, deploymentId)
          .log("{}: {} already ran here ({}); reporting it again", app, deploymentId, last.get().phase());
      listener.transition(last.get());
    }
    return last;
  }

  /** Versions of {@code app} unpacked on this host, newest first. */
  public List<String> keptVersions(String app) throws IOException {
    return keptReleases(app).stream().map(Releases::versionOf).distinct().toList();
  }

  /** Release directories of {@code app}, newest first. */
  private List<String> keptReleases(String app) throws IOException {
    Path releases = layout.releases(app);
    if (!Files.isDirectory(releases)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(releases)) {
      return s.filter(p -> !p.getFileName().toString().startsWith("."))
          .sorted(Comparator.comparing((Path p) -> p.toFile().lastModified()).reversed())
          .map(p -> p.getFileName().toString()).toList();
    }
  }

  /**
   * One round of the health checks of {@code app}'s current release, if its last job ended ACTIVE
   * and {@code current} still points at it. Used by the periodic health report.
   */
  public Optional<io.rackroll.proto.v1.HealthReport.Builder> healthNow(String app) throws IOException, InterruptedException {
    Optional<Job> job = job(app);
    Optional<String> current = currentRelease(app);
    if (job.isEmpty() || job.get().phase() != Phase.ACTIVE || current.isEmpty() || !current.get().equals(job.get().version())) {
      return Optional.empty();
    }
    Optional<Manifest> m = manifestIfPresent(app, current.get());
    if (m.isEmpty()) {
      return Optional.empty();
    }
    var results = health.once(m.get().health(), releaseDir(app, current.get()));
    return Optional.of(io.rackroll.proto.v1.HealthReport.newBuilder().setApp(app).setVersion(Releases.versionOf(current.get()))
        .setHealthy(results.stream().allMatch(io.rackroll.proto.v1.CheckResult::getOk)).addAllChecks(results)
        .setAtEpochMillis(clock.millis()));
  }

  /** The last job of every app on this host, for reporting after a reconnect. */
  public List<Job> jobs() throws IOException {
    List<Job> out = new ArrayList<>();
    for (String app : layout.appNames()) {
      job(app).ifPresent(out::add);
    }
    return out;
  }

  /** The version {@code current} points to, if any. */
  public Optional<String> currentVersion(String app) throws IOException {
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

  /** The configuration digest the current release of {@code app} was installed with; empty when none. */
  public String currentConfigDigest(String app) throws IOException {
    Optional<String> current = currentRelease(app);
    return current.isEmpty() ? "" : configDigestOf(app, current.get());
  }

  /** The configuration digest release directory {@code release} was installed with; empty when none. */
  private String configDigestOf(String app, String release) throws IOException {
    return ReleaseConfig.read(releaseDir(app, release)).digest();
  }

  /** The last persisted job of {@code app}. */
  public Optional<Job> job(String app) throws IOException {
    Path file = layout.job(app);
    try {
      return Optional.of(JSON.readValue(Files.readAllBytes(file), Job.class));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /**
   * Finishes every job a restart interrupted. What each persisted phase means after a crash:
   */
  public List<Job> recover() throws IOException, InterruptedException {
    List<Job> done = new ArrayList<>();
    for (String app : layout.appNames()) {
      Optional<Job> persisted = job(app);
      if (persisted.isEmpty() || persisted.get().phase().terminal()) {
        continue;
      }
      Job job = persisted.get().reentered(clock.millis());
      log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, job.deploymentId())
          .log("{}@{}: resuming after restart in {} (entry {})", job.app(), job.version(), job.phase(), job.entries());
      if (job.entries() > MAX_ENTRIES) {
        job = loopDetected(job);
      } else {
        job = switch (job.phase()) {
          // No change to the host yet (downloads resume from the partial file): just go on.
          case DOWNLOADING, VERIFYING, CHECKING_HOST -> job;
          // The release directory only appears by rename once complete; the step clears partial staging.
          case INSTALLING -> job;
          // current may point at either release and hooks may be half-run: undo rather than guess.
          case ACTIVATING -> job.failing(Phase.ROLLING_BACK, "interrupted",
              "agent restarted during activation of " + job.version(), clock.millis());
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
    verifiedDigest = null;
    inspected = null;
    while (true) {
      try {
        persist(job);
      } catch (IOException e) {
        return cannotRecord(job, e);
      }
      listener.transition(job);
      if (job.phase().terminal()) {
        log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, job.deploymentId())
            .log("{}@{}: {}{}", job.app(), job.version(), job.phase(), job.failure().isEmpty() ? "" : ": " + job.failure());
        return job;
      }
      try {
        job = step(job);
      } catch (IOException e) {
        // Once current may have moved, going back is the only safe end; before that nothing changed.
        boolean switched = job.phase() == Phase.ACTIVATING || job.phase() == Phase.CHECKING_HEALTH;
        String why = job.phase() == Phase.ROLLING_BACK
            ? job.failure() + "; rollback to " + job.previous() + " failed: " + e.getMessage()
            : job.phase().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + " of " + job.ref() + " failed: " + e.getMessage();
        job = job.failing(switched ? Phase.ROLLING_BACK : Phase.FAILED, diskKind(e), why, clock.millis());
      }
    }
  }

  /** The job ends FAILED, reported though it cannot be persisted (a read-only or full disk). */
  private Job cannotRecord(Job job, IOException e) {
    Job failed = job.phase().terminal() ? job : job.failing(Phase.FAILED, diskKind(e), job.app() + "@"
        + job.version() + ": cannot record its state: " + e.getMessage(), clock.millis());
    log.atError().addKeyValue(ServiceLogging.DEPLOYMENT, failed.deploymentId()).log("{}", failed.failure());
    listener.transition(failed);
    return failed;
  }

  private Job step(Job job) throws IOException, InterruptedException {
    long now = clock.millis();
    return switch (job.phase()) {
      case DOWNLOADING -> download(job);
      case VERIFYING -> {
        try {
          Artifact a = inspected(job);
          if (!a.manifest().name().equals(job.app()) || !a.manifest().version().equals(Releases.versionOf(job.version()))) {
            yield job.failing(Phase.FAILED, "verification_failed", "artifact " + job.digest().substring(0, 12)
                + "… holds " + a.manifest().ref() + ", not " + job.ref(), now);
          }
          yield job.to(Phase.CHECKING_HOST, now);
        } catch (ManifestException e) {
          yield job.failing(Phase.FAILED, "verification_failed", e.getMessage(), now);
        }
      }
      case CHECKING_HOST -> {
        Artifact a = inspect(job);
        List<String> refusals = Preconditions.refusals(a.manifest().requires(), host.get(), apps, a.unpackedBytes());
        yield refusals.isEmpty() ? job.to(Phase.INSTALLING, now)
            : job.failing(Phase.FAILED, "refused", String.join("; ", refusals), now);
      }
      case INSTALLING -> install(job);
      case ACTIVATING -> activate(job);
      case CHECKING_HEALTH -> {
        Manifest m = manifest(job.app(), job.version());
        HealthProbe.Verdict v = health.await(m.health(), releaseDir(job.app(), job.version()));
        if (v.healthy()) {
          prune(job.app());
          yield job.to(Phase.ACTIVE, clock.millis());
        }
        yield job.failing(Phase.ROLLING_BACK, "health_failed", job.ref() + " " + v.detail(),
            clock.millis());
      }
      case ROLLING_BACK -> rollBack(job);
      default -> throw new IllegalStateException("no step for terminal phase " + job.phase());
    };
  }

  private Job download(Job job) throws InterruptedException {
    int attempt = 0;
    while (true) {
      try {
        artifact(job);
        return job.to(Phase.VERIFYING, clock.millis());
      } catch (DownloadException e) {
        switch (e.kind()) {
          case UNREACHABLE, CORRUPT -> {
            if (++attempt >= 5) {
              return job.failing(Phase.FAILED, e.kind() == DownloadException.Kind.CORRUPT ? "verification_failed"
                  : "unreachable", e.getMessage(), clock.millis());
            }
            long pause = Math.min(30_000, 500L << attempt);
            log.atWarn().addKeyValue(ServiceLogging.DEPLOYMENT, job.deploymentId())
                .log("{}@{}: attempt {} of 5: {}; trying again in {} ms", job.app(), job.version(), attempt,
                    e.getMessage(), pause);
            Thread.sleep(pause); // retry pacing between whole attempts
          }
          case DISK_FULL -> {
            return job.failing(Phase.FAILED, "disk_full", e.getMessage(), clock.millis());
          }
          default -> {
            return job.failing(Phase.FAILED, "refused", e.getMessage(), clock.millis());
          }
        }
      } catch (IOException e) {
        return job.failing(Phase.FAILED, diskKind(e), "download of " + job.ref()
            + " failed: " + e.getMessage(), clock.millis());
      }
    }
  }

  private Job install(Job job) throws IOException, InterruptedException {
    Path release = releaseDir(job.app(), job.version());
    if (Files.exists(release.resolve(INSTALLED))) {
      return job.to(Phase.ACTIVATING, clock.millis()); // unpacked and postInstall done: nothing to redo
    }
    if (Files.isDirectory(release) && release.equals(currentTarget(job.app()))) {
      return job.failing(Phase.FAILED, "interrupted", "release " + job.version() + " is current but was never"
          + " completely installed; deploy another version first", clock.millis());
    }
    deleteTree(release); // a crash between rename and postInstall: start that release over
    Path staging = release.resolveSibling("." + job.version() + ".staging");
    deleteTree(staging);
    try {
      Unpacker.unpack(artifact(job), staging, job.unpackLimits());
      ReleaseConfig config = ReleaseConfig.read(layout.app(job.app()));
      flags.start(job.deploymentId(), job.app(), config.initialFlags()); // a host new to the app: its environment's
      Flags.link(staging); // flags.json: the app's runtime flags, whichever release runs
      Manifest m = Manifest.parse(ReleaseTree.readString(staging, Manifest.FILE));
      config.write(staging);
      for (Manifest.TemplateFile template : m.templates()) {
        render(staging, template, config);
      }
      Optional<Manifest.Hook> pre = m.hook(HookPoint.PRE_INSTALL);
      if (pre.isPresent()) {
        hooks.run("preInstall", pre.get(), job.app(), job.version(), staging, job.previous(), hookLog(job, "preInstall"));
      }
      Files.move(staging, release, StandardCopyOption.ATOMIC_MOVE);
      syncDir(release.getParent());
      Optional<Manifest.Hook> post = m.hook(HookPoint.POST_INSTALL);
      if (post.isPresent()) {
        try {
          hooks.run("postInstall", post.get(), job.app(), job.version(), release, job.previous(), hookLog(job, "postInstall"));
        } catch (HookRunner.HookFailed e) {
          deleteTree(release); // not switched to, and not to be kept half-configured
          throw e;
        }
      }
      // The marker says "complete": written last, so a crash before it means "install again".
      SecureFiles.writeString(release.resolve(INSTALLED), job.digest() + "\n", SecureFiles.PUBLIC);
      return job.to(Phase.ACTIVATING, clock.millis());
    } catch (HookRunner.HookFailed e) {
      deleteTree(staging);
      return job.failing(Phase.FAILED, e.timedOut ? "hook_timed_out" : "hook_failed", e.getMessage(), clock.millis());
    } catch (ManifestException e) {
      deleteTree(staging);
      return job.failing(Phase.FAILED, "verification_failed", e.getMessage(), clock.millis());
    } catch (Template.TemplateException e) {
      deleteTree(staging);
      return job.failing(Phase.FAILED, "config_failed", job.ref() + ": " + e.getMessage(), clock.millis());
    } catch (IOException e) {
      deleteTree(staging);
      return job.failing(Phase.FAILED, e instanceof Unpacker.UnsafeArchiveException ? "verification_failed" : diskKind(e),
          "install of " + job.ref() + " failed: " + e.getMessage(), clock.millis());
    }
  }

  /**
   * Renders one template in place: read and written only as a regular file inside the release
   * (never through a link), owner-only unless the manifest asks otherwise, since it may hold secrets.
   */
  private static void render(Path release, Manifest.TemplateFile template, ReleaseConfig config)
      throws IOException, Template.TemplateException {
    String text = ReleaseTree.readString(release, template.path());
    Path file = ReleaseTree.write(release, template.path(),
        Template.render(template.path(), text, config.variables(), config.environment()).getBytes(StandardCharsets.UTF_8),
        PosixFilePermissions.fromString(permissions(template.mode())));
    if (template.owner().isEmpty() && template.group().isEmpty()) {
      return;
    }
    UserPrincipalLookupService users = file.getFileSystem().getUserPrincipalLookupService();
    PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    try {
      if (!template.owner().isEmpty()) {
        view.setOwner(users.lookupPrincipalByName(template.owner()));
      }
      if (!template.group().isEmpty()) {
        view.setGroup(users.lookupPrincipalByGroupName(template.group()));
      }
    } catch (UserPrincipalNotFoundException e) {
      throw new Template.TemplateException(template.path() + ": no user or group '" + e.getName()
          + "' on this host (expected: the owner and group the manifest names to exist before the install)");
    }
  }

  private static String permissions(int mode) {
    String rwx = "rwxrwxrwx";
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 9; i++) {
      b.append((mode & (0400 >> i)) != 0 ? rwx.charAt(i) : '-');
    }
    return b.toString();
  }

  private Job activate(Job job) throws IOException, InterruptedException {
    try {
      if (!job.previous().isEmpty() && !job.previous().equals(job.version())) {
        Optional<Manifest.Hook> stop = manifest(job.app(), job.previous()).hook(HookPoint.DEACTIVATE);
        if (stop.isPresent()) {
          hooks.run("deactivate", stop.get(), job.app(), job.previous(), releaseDir(job.app(), job.previous()),
              job.previous(), hookLog(job, "deactivate-" + job.previous()));
        }
      }
      switchCurrent(job.app(), job.version());
      Optional<Manifest.Hook> start = manifest(job.app(), job.version()).hook(HookPoint.ACTIVATE);
      if (start.isPresent()) {
        hooks.run("activate", start.get(), job.app(), job.version(), releaseDir(job.app(), job.version()),
            job.previous(), hookLog(job, "activate"));
      }
      return job.to(Phase.CHECKING_HEALTH, clock.millis());
    } catch (HookRunner.HookFailed e) {
      return job.failing(Phase.ROLLING_BACK, e.timedOut ? "hook_timed_out" : "hook_failed", e.getMessage(), clock.millis());
    }
  }

  private Job rollBack(Job job) throws IOException, InterruptedException {
    String app = job.app();
    if (job.previous().isEmpty() || job.previous().equals(job.version())
        || !Files.isDirectory(releaseDir(app, job.previous()))) {
      // Nothing to go back to: stop the new release and leave no current, so nothing half-switched runs.
      Optional<Manifest.Hook> stop = manifestIfPresent(app, job.version()).flatMap(m -> m.hook(HookPoint.DEACTIVATE));
      if (stop.isPresent()) {
        try {
          hooks.run("deactivate", stop.get(), app, job.version(), releaseDir(app, job.version()), "", hookLog(job, "deactivate"));
        } catch (HookRunner.HookFailed e) {
          log.atWarn().addKeyValue(ServiceLogging.DEPLOYMENT, job.deploymentId())
              .log("{}@{}: {}", app, job.version(), e.getMessage());
        }
      }
      Files.deleteIfExists(layout.current(app));
      syncDir(layout.app(app));
      return job.failing(Phase.FAILED, job.failureKind(), job.failure() + "; no previous release to roll back to",
          clock.millis());
    }
    try {
      switchCurrent(app, job.previous());
      Manifest previous = manifest(app, job.previous());
      Optional<Manifest.Hook> start = previous.hook(HookPoint.ACTIVATE);
      if (start.isPresent()) {
        hooks.run("activate", start.get(), app, job.previous(), releaseDir(app, job.previous()), job.version(),
            hookLog(job, "activate-" + job.previous()));
      }
      HealthProbe.Verdict v = health.await(previous.health(), releaseDir(app, job.previous()));
      if (!v.healthy()) {
        return job.failing(Phase.FAILED, "rollback_failed", job.failure() + "; rolled back to " + job.previous()
            + " but it is not healthy either: " + v.detail(), clock.millis());
      }
      return job.failing(Phase.ROLLED_BACK, job.failureKind(), job.failure() + "; rolled back to " + job.previous(),
          clock.millis());
    } catch (HookRunner.HookFailed e) {
      return job.failing(Phase.FAILED, "rollback_failed", job.failure() + "; rollback to " + job.previous()
          + " failed: " + e.getMessage(), clock.millis());
    }
  }

  /** Points {@code current} at {@code version}: a new link renamed over the old one, atomic. */
  private void switchCurrent(String app, String version) throws IOException {
    Path dir = layout.app(app);
    Path tmp = dir.resolve(".current.tmp");
    Files.deleteIfExists(tmp);
    Files.createSymbolicLink(tmp, Path.of("releases", version));
    Files.move(tmp, layout.current(app), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    syncDir(dir);
  }

  /** Keeps the newest {@code keepReleases} releases (and always the current one). */
  private void prune(String app) throws IOException {
    Path releases = layout.releases(app);
    String current = currentRelease(app).orElse("");
    List<Path> all;
    try (Stream<Path> s = Files.list(releases)) {
      all = s.filter(p -> !p.getFileName().toString().startsWith("."))
          .sorted(Comparator.comparing((Path p) -> p.toFile().lastModified()).reversed()).toList();
    }
    int kept = 0;
    for (Path p : all) {
      if (p.getFileName().toString().equals(current) || kept < keepReleases - 1) {
        if (!p.getFileName().toString().equals(current)) {
          kept++;
        }
        continue;
      }
      log.info("{}: removing old release {}", app, p.getFileName());
      deleteTree(p);
    }
  }

  private void persist(Job job) throws IOException {
    Files.createDirectories(layout.releases(job.app()));
    SecureFiles.write(layout.job(job.app()), JSON.writeValueAsBytes(job), SecureFiles.PUBLIC);
  }

  /** The job's artifact, verified (downloaded if need be) once per job. */
  private Path artifact(Job job) throws IOException {
    if (!job.digest().equals(verifiedDigest)) {
      verifiedPath = artifacts.fetch(job.digest(), job.size(), bytes -> listener.downloaded(job, bytes));
      verifiedDigest = job.digest();
      inspected = null;
    }
    return verifiedPath;
  }

  private Artifact inspected(Job job) throws IOException, ManifestException {
    Path file = artifact(job);
    if (inspected == null) {
      inspected = Artifact.inspect(file, job.unpackLimits());
    }
    return inspected;
  }

  private Artifact inspect(Job job) throws IOException {
    try {
      return inspected(job);
    } catch (ManifestException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  private Manifest manifest(String app, String version) throws IOException {
    return manifestIfPresent(app, version).orElseThrow(() ->
        new IOException("release " + app + "@" + version + " is not on this host"));
  }

  Optional<Manifest> manifestIfPresent(String app, String version) throws IOException {
    Path file = releaseDir(app, version).resolve(Manifest.FILE);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(Manifest.parse(Files.readString(file)));
    } catch (ManifestException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  private Path currentTarget(String app) throws IOException {
    Optional<String> v = currentRelease(app);
    return v.isPresent() ? releaseDir(app, v.get()) : null;
  }

  Path releaseDir(String app, String version) {
    return layout.release(app, version);
  }

  private Path hookLog(Job job, String hook) throws IOException {
    return hookLog(job.app(), job.version(), hook);
  }

  /** Where {@code hook} of release directory {@code release} writes its output: {@code apps/<app>/logs/}. */
  Path hookLog(String app, String release, String hook) throws IOException {
    return Files.createDirectories(layout.logs(app)).resolve(release + "-" + hook + ".log");
  }

  private static String diskKind(IOException e) {
    String m = String.valueOf(e.getMessage());
    return m.contains("No space left") ? "disk_full" : m.contains("Read-only file system") ? "disk_read_only" : "io_error";
  }

  private static void syncDir(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
