package io.rackroll.agent.lifecycle;

import io.rackroll.agent.install.ReleaseTree;
import io.rackroll.release.Manifest.Hook;
import io.rackroll.release.Template;
import io.rackroll.trust.SecureFiles;
import io.rackroll.wire.Durations;
import io.rackroll.wire.JsonRecords;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a release's hook scripts: in the release directory, with the documented environment, with
 * a timeout that kills the hook and everything it started, output captured to a log whose tail is
 * reported.
 *
 * <p>Never two runs of a hook at once: each hook runs in a process group of its own ({@code
 * setsid}), recorded in {@code apps/<app>/hook.json} while it runs. An agent killed in the middle
 * of a hook leaves it running (the unit's {@code KillMode=process}); before the restarted agent
 * runs any hook of that app, it ends that group: SIGTERM, then SIGKILL after {@link #GRACE}.
 *
 * <p>Environment: {@code RACKROLL_APP}, {@code RACKROLL_VERSION}, {@code RACKROLL_RELEASE_DIR},
 * {@code RACKROLL_PREVIOUS_VERSION} (empty on a first install), {@code RACKROLL_HOOK}, and one
 * {@code RACKROLL_LABEL_<KEY>} per agent label (key upper-cased, non-alphanumerics as '_'); and
 * from the release's own configuration ({@link ReleaseConfig}, as installed): {@code
 * RACKROLL_ENVIRONMENT} and one {@code RACKROLL_VAR_<NAME>} per variable.
 */
final class HookRunner {
  private static final Logger log = LoggerFactory.getLogger(HookRunner.class);
  static final int TAIL_LINES = 20;
  /** How long a leftover hook gets to end after SIGTERM. */
  static final Duration GRACE = Duration.ofSeconds(10);
  /**
   * util-linux's setsid: a new session, so the hook's pid is its process group (setsid execs the
   * hook in place, as the agent's child is no group leader; --wait in case it ever forks, so the
   * hook's end and exit status are still the ones waited for). Absent, hooks run without.
   */
  private static final Path SETSID = Path.of("/usr/bin/setsid");

  /**
   * A hook run in progress, as recorded in {@code apps/<app>/hook.json}: its process (and
   * process group) and when that process started, so a reused pid is never taken for it.
   */
  record Running(long pid, long startedAtMillis, String hook, String release) {}

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
    Path marker = HostLayout.appOf(releaseDir).resolve(HostLayout.HOOK);
    endLeftovers(marker);
    List<String> command = Files.isExecutable(SETSID) ? List.of(SETSID.toString(), "--wait", script.toString())
        : List.of(script.toString());
    ProcessBuilder pb = new ProcessBuilder(command).directory(releaseDir.toFile())
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
      record(marker, p, name, version);
      if (!p.waitFor(hook.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
        killTree(p);
        p.waitFor(10, TimeUnit.SECONDS);
        throw new HookFailed(name + " hook " + hook.path() + " of " + app + "@" + version + " timed out after "
            + Durations.format(hook.timeout()) + " and was killed; output: " + tail(log), true);
      }
    } catch (InterruptedException e) {
      killTree(p);
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + name + " hook", e);
    } finally {
      Files.deleteIfExists(marker);
      bound(log);
    }
    if (p.exitValue() != 0) {
      throw new HookFailed(name + " hook " + hook.path() + " of " + app + "@" + version + " exited with "
          + p.exitValue() + "; output: " + tail(log), false);
    }
    return tail(log);
  }

  /** The most of a hook's output kept in its log: the end, where the reason for a failure usually is. */
  static final long MAX_LOG_BYTES = 1 << 20;

  /** Cuts a hook's log to its last {@link #MAX_LOG_BYTES}, saying how much went. */
  static void bound(Path log) throws IOException {
    long size = Files.exists(log) ? Files.size(log) : 0;
    if (size <= MAX_LOG_BYTES) {
      return;
    }
    byte[] end = new byte[(int) MAX_LOG_BYTES];
    try (java.nio.channels.FileChannel in = java.nio.channels.FileChannel.open(log)) {
      in.position(size - MAX_LOG_BYTES);
      java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(end);
      while (buffer.hasRemaining() && in.read(buffer) >= 0) {
        // reads to the end
      }
    }
    Path cut = log.resolveSibling(log.getFileName() + ".cut");
    try (var out = Files.newOutputStream(cut)) {
      out.write(("[rackroll: the first " + (size - MAX_LOG_BYTES) + " bytes of this output were cut]\n")
          .getBytes(StandardCharsets.UTF_8));
      out.write(end);
    }
    Files.move(cut, log, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  static String tail(Path log) throws IOException {
    if (!Files.exists(log)) {
      return "";
    }
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join(" | ", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
  }

  /**
   * Kills the hook and everything it started: its descendants and the rest of its process group.
   * The hook first, with its children listed before (once it is gone they belong to init and are
   * no longer its descendants): a shell killed after its child would still write "Killed" into the
   * output the operator reads.
   */
  private static void killTree(Process p) {
    List<ProcessHandle> children = p.descendants().toList();
    p.destroyForcibly();
    children.forEach(ProcessHandle::destroyForcibly);
    group(p.pid()).forEach(ProcessHandle::destroyForcibly);
  }

  private static void record(Path marker, Process p, String hook, String release) throws IOException {
    long started = p.toHandle().info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    SecureFiles.write(marker, JsonRecords.write(new Running(p.pid(), started, hook, release)),
        SecureFiles.PUBLIC);
  }

  /**
   * Ends what a hook of this app left running when the agent before this one stopped in the middle
   * of it: its process, if it is still the same one, and every process of its group.
   */
  static void endLeftovers(Path marker) throws IOException {
    if (!Files.exists(marker)) {
      return;
    }
    Running run;
    try {
      run = JsonRecords.read(Files.readAllBytes(marker), Running.class);
    } catch (IOException e) {
      log.warn("{}: unreadable ({}); removing it", marker, e.getMessage());
      Files.deleteIfExists(marker);
      return;
    }
    List<ProcessHandle> left = new ArrayList<>(group(run.pid()));
    ProcessHandle.of(run.pid()).filter(h -> h.info().startInstant().map(Instant::toEpochMilli)
        .orElse(-1L) == run.startedAtMillis()).filter(h -> !left.contains(h)).ifPresent(left::add);
    if (!left.isEmpty()) {
      log.warn("{} hook of {} was still running from before the agent restarted ({} process(es)); ending it before"
          + " running a hook again", run.hook(), run.release(), left.size());
      left.forEach(ProcessHandle::destroy);
      long deadline = System.nanoTime() + GRACE.toNanos();
      for (ProcessHandle h : left) {
        try {
          h.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          h.destroyForcibly();
        } catch (ExecutionException e) {
          // gone
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while ending a leftover hook", e);
        }
      }
    }
    Files.deleteIfExists(marker);
  }

  /**
   * The processes of process group {@code pgid}, from {@code /proc}: a pid is not reused while it
   * names a group, so these are the group a hook started, whoever their parent is now.
   */
  static List<ProcessHandle> group(long pgid) {
    return ProcessHandle.allProcesses().filter(h -> h.pid() != ProcessHandle.current().pid() && pgrp(h.pid()) == pgid)
        .toList();
  }

  private static long pgrp(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(after[2]); // state, ppid, pgrp
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
