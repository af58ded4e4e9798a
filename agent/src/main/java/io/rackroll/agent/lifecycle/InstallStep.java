package io.rackroll.agent.lifecycle;

import io.rackroll.agent.install.ReleaseTree;
import io.rackroll.agent.install.Unpacker;
import io.rackroll.release.Manifest;
import io.rackroll.release.Manifest.HookPoint;
import io.rackroll.release.ManifestException;
import io.rackroll.release.Template;
import io.rackroll.trust.SecureFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Clock;
import java.util.Optional;

/**
 * INSTALLING: unpacks the artifact into a staging directory (links judged on disk), gives a host
 * new to the app its environment's flags, renders the templates with the job's configuration, runs
 * {@code preInstall}, renames the staging directory to {@code releases/<release>/} and runs
 * {@code postInstall}. A marker written last says the release is complete; without it the release
 * is installed again from the start.
 */
final class InstallStep implements Step {
  /** In a release directory: unpacked and postInstall succeeded. */
  static final String INSTALLED = ".rackroll-installed";

  private final InstalledReleases releases;
  private final JobArtifact artifact;
  private final Flags flags;
  private final HookRunner hooks;
  private final Clock clock;

  InstallStep(InstalledReleases releases, JobArtifact artifact, Flags flags, HookRunner hooks, Clock clock) {
    this.releases = releases;
    this.artifact = artifact;
    this.flags = flags;
    this.hooks = hooks;
    this.clock = clock;
  }

  @Override
  public Job run(Job job) throws IOException, InterruptedException {
    Path release = releases.releaseDir(job.app(), job.version());
    if (Files.exists(release.resolve(INSTALLED))) {
      return job.to(Phase.ACTIVATING, clock.millis()); // unpacked and postInstall done: nothing to redo
    }
    if (Files.isDirectory(release) && release.equals(releases.currentDir(job.app()))) {
      return job.failing(Phase.FAILED, "interrupted", "release " + job.version() + " is current but was never"
          + " completely installed; deploy another version first", clock.millis());
    }
    HostFiles.deleteTree(release); // a crash between rename and postInstall: start that release over
    Path staging = release.resolveSibling("." + job.version() + ".staging");
    HostFiles.deleteTree(staging);
    try {
      Unpacker.unpack(artifact.file(job), staging, job.unpackLimits());
      ReleaseConfig config = ReleaseConfig.read(releases.layout().app(job.app()));
      flags.start(job.deploymentId(), job.app(), config.initialFlags()); // a host new to the app: its environment's
      Flags.link(staging); // flags.json: the app's runtime flags, whichever release runs
      Manifest m = Manifest.parse(ReleaseTree.readString(staging, Manifest.FILE));
      config.write(staging);
      InstalledReleases.recordArtifact(staging, job.digest());
      for (Manifest.TemplateFile template : m.templates()) {
        render(staging, template, config);
      }
      Optional<Manifest.Hook> pre = m.hook(HookPoint.PRE_INSTALL);
      if (pre.isPresent()) {
        hooks.run("preInstall", pre.get(), job.app(), job.version(), staging, job.previous(), hookLog(job, "preInstall"));
      }
      HostFiles.syncTree(staging);
      Files.move(staging, release, StandardCopyOption.ATOMIC_MOVE);
      HostFiles.syncDir(release.getParent());
      Optional<Manifest.Hook> post = m.hook(HookPoint.POST_INSTALL);
      if (post.isPresent()) {
        try {
          hooks.run("postInstall", post.get(), job.app(), job.version(), release, job.previous(), hookLog(job, "postInstall"));
        } catch (HookRunner.HookFailed e) {
          HostFiles.deleteTree(release); // not switched to, and not to be kept half-configured
          throw e;
        }
      }
      // The marker says "complete": written last, so a crash before it means "install again".
      SecureFiles.writeString(release.resolve(INSTALLED), job.digest() + "\n", SecureFiles.PUBLIC);
      return job.to(Phase.ACTIVATING, clock.millis());
    } catch (HookRunner.HookFailed e) {
      HostFiles.deleteTree(staging);
      return job.failing(Phase.FAILED, e.timedOut ? "hook_timed_out" : "hook_failed", e.getMessage(), clock.millis());
    } catch (ManifestException e) {
      HostFiles.deleteTree(staging);
      return job.failing(Phase.FAILED, "verification_failed", e.getMessage(), clock.millis());
    } catch (Template.TemplateException e) {
      HostFiles.deleteTree(staging);
      return job.failing(Phase.FAILED, "config_failed", job.ref() + ": " + e.getMessage(), clock.millis());
    } catch (IOException e) {
      HostFiles.deleteTree(staging);
      return job.failing(Phase.FAILED, e instanceof Unpacker.UnsafeArchiveException ? "verification_failed" : HostFiles.diskKind(e),
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

  private Path hookLog(Job job, String hook) throws IOException {
    return releases.hookLog(job.app(), job.version(), hook);
  }
}
