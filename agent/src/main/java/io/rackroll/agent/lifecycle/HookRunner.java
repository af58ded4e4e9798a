package io.rackroll.agent.lifecycle;

import io.rackroll.agent.install.ReleaseTree;
import io.rackroll.release.Manifest.Hook;
import io.rackroll.release.Template;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a release's hook scripts: in the release directory, with the documented environment, with
 * a timeout that kills the hook and everything it started, output captured to a log whose tail is
 * reported.
 *
 * <p>Environment: {@code RACKROLL_APP}, {@code RACKROLL_VERSION}, {@code RACKROLL_RELEASE_DIR},
 * {@code RACKROLL_PREVIOUS_VERSION} (empty on a first install), {@code RACKROLL_HOOK}, and one
 * {@code RACKROLL_LABEL_<KEY>} per agent label (key upper-cased, non-alphanumerics as '_'); and
 * from the release's own configuration ({@link ReleaseConfig}, as installed): {@code
 * RACKROLL_ENVIRONMENT} and one {@code RACKROLL_VAR_<NAME>} per variable.
 */
final class HookRunner {
  static final int TAIL_LINES = 20;

  private final Map<String, String> labels;

  HookRunner(Map<String, String> labels) {
    this.labels = Map.copyOf(labels);
  }

  /** Why a hook did not succeed; the message names the hook and carries the output's tail. */
  static final class HookFailed extends Exception {
    final boolean timedOut;

    HookFailed(String message, boolean timedOut) {
      super(message);
      this.timedOut = timedOut;
    }
  }

  /** Runs {@code hook} of {@code app@version} in {@code releaseDir}; returns the output's tail. */
  String run(String name, Hook hook, String app, String version, Path releaseDir, String previous, Path log)
      throws HookFailed, IOException {
    Path script;
    try {
      script = ReleaseTree.resolve(releaseDir, hook.path()); // the script the release holds, never one outside
    } catch (IOException e) {
      throw new HookFailed(name + " hook " + hook.path() + " of " + app + "@" + version + " could not start: "
          + e.getMessage(), false);
    }
    ProcessBuilder pb = new ProcessBuilder(script.toString()).directory(releaseDir.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("RACKROLL_APP", app);
    version = Releases.versionOf(version);
    env.put("RACKROLL_VERSION", version);
    env.put("RACKROLL_RELEASE_DIR", releaseDir.toString());
    env.put("RACKROLL_PREVIOUS_VERSION", Releases.versionOf(previous));
    env.put("RACKROLL_HOOK", name);
    env.put("RACKROLL_FLAGS_FILE", HostLayout.appOf(releaseDir).resolve(HostLayout.FLAGS).toString());
    labels.forEach((k, v) -> env.put("RACKROLL_LABEL_" + k.toUpperCase().replaceAll("[^A-Z0-9]", "_"), v));
    ReleaseConfig config = ReleaseConfig.read(releaseDir);
    env.put("RACKROLL_ENVIRONMENT", config.environment());
    config.variables().forEach((k, v) -> env.put(Template.environmentName(k), v));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new HookFailed(name + " hook " + hook.path() + " of " + app + "@" + version + " could not start: "
          + e.getMessage(), false);
    }
    try {
      if (!p.waitFor(hook.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
        killTree(p);
        p.waitFor(10, TimeUnit.SECONDS);
        throw new HookFailed(name + " hook " + hook.path() + " of " + app + "@" + version + " timed out after "
            + io.rackroll.wire.Durations.format(hook.timeout()) + " and was killed; output: " + tail(log), true);
      }
    } catch (InterruptedException e) {
      killTree(p);
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + name + " hook", e);
    }
    if (p.exitValue() != 0) {
      throw new HookFailed(name + " hook " + hook.path() + " of " + app + "@" + version + " exited with "
          + p.exitValue() + "; output: " + tail(log), false);
    }
    return tail(log);
  }

  static String tail(Path log) throws IOException {
    if (!Files.exists(log)) {
      return "";
    }
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join(" | ", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
  }

  /**
   * Kills the hook and everything it started. The hook first, with its children listed before
   * (once it is gone they belong to init and are no longer its descendants): a shell killed after
   * its child would still write "Killed" into the output the operator reads.
   */
  private static void killTree(Process p) {
    java.util.List<ProcessHandle> children = p.descendants().toList();
    p.destroyForcibly();
    children.forEach(ProcessHandle::destroyForcibly);
  }
}
