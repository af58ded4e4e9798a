package io.rackroll.release;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A release's manifest, {@code rackroll.yaml} at the root of its artifact. Parsed and checked by
 * {@link ManifestParser}: the controller refuses a push whose manifest fails, and the agent reads
 * the same class, so both sides agree on every key.
 */
public record Manifest(String name, String version, Requirements requires, Map<HookPoint, Hook> hooks,
    Health health, List<TemplateFile> templates, String text) {
  public static final String FILE = "rackroll.yaml";
  public static final Duration DEFAULT_HOOK_TIMEOUT = Duration.ofSeconds(60);

  public Manifest {
    hooks = Map.copyOf(hooks);
    templates = List.copyOf(templates);
  }

  /** Parses and checks {@code yaml}; every problem is reported at once, with its line. */
  public static Manifest parse(String yaml) throws ManifestException {
    return new ManifestParser(yaml).parse();
  }

  /**
   * Checks that every file the manifest names (hooks, templates, exec health checks) is a regular file in
   * the artifact, whose paths are {@code files} (relative, '/'-separated).
   */
  public void checkFiles(Set<String> files) throws ManifestException {
    List<String> missing = new java.util.ArrayList<>();
    hooks.forEach((point, hook) -> {
      if (!files.contains(hook.path())) {
        missing.add(FILE + ": hooks." + point.key() + ": " + hook.path() + " is not in the artifact");
      }
    });
    for (TemplateFile t : templates) {
      if (!files.contains(t.path())) {
        missing.add(FILE + ": templates: " + t.path() + " is not in the artifact");
      }
    }
    for (HealthCheck check : health.checks()) {
      if (check instanceof HealthCheck.Exec exec && !files.contains(exec.path())) {
        missing.add(FILE + ": health.checks: exec " + exec.path() + " is not in the artifact");
      }
    }
    if (!missing.isEmpty()) {
      throw new ManifestException(missing);
    }
  }

  public String ref() {
    return name + "@" + version;
  }

  public Optional<Hook> hook(HookPoint point) {
    return Optional.ofNullable(hooks.get(point));
  }

  /** What the host must offer; 0 or empty means "no requirement". */
  public record Requirements(List<String> arch, String os, int minCores, long minMemoryBytes, long minFreeDiskBytes) {
    public static final Requirements NONE = new Requirements(List.of(), "", 0, 0, 0);

    public Requirements {
      arch = List.copyOf(arch);
    }
  }

  public enum HookPoint {
    PRE_INSTALL("preInstall"), POST_INSTALL("postInstall"), ACTIVATE("activate"), DEACTIVATE("deactivate"),
    /** After the agent changed the app's runtime flags (flags.json), in the current release. */
    FLAGS_CHANGED("flagsChanged");

    private final String key;

    HookPoint(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }
  }

  /**
   * A file the agent renders at install with the environment's values. It may hold secrets, so it
   * is written owner-only (0600, the agent's user) unless the manifest asks for another mode, owner
   * or group; an owner or group is a user or group name on the host ("" keeps the agent's).
   */
  public record TemplateFile(String path, int mode, String owner, String group) {
    public static final int DEFAULT_MODE = 0600;

    public TemplateFile {
      if (mode < 0 || mode > 0777) {
        throw new IllegalArgumentException("template mode: " + Integer.toOctalString(mode) + " (expected: 0000 to 0777)");
      }
    }

    public static TemplateFile ownerOnly(String path) {
      return new TemplateFile(path, DEFAULT_MODE, "", "");
    }
  }

  /** A script inside the release, run with a timeout. */
  public record Hook(String path, Duration timeout) {}

  /**
   * How to tell the release is healthy after activation. No checks: healthy at once.
   *
   * @param bake how long after its activation a host watches the release by itself: unhealthy
   *     within it (the periodic health report), the host rolls back on its own, even with the
   *     controller away; after it, a host never changes releases by itself. Zero: no bake.
   */
  public record Health(List<HealthCheck> checks, Duration interval, Duration timeout, int healthyAfter,
      Duration deadline, Duration bake) {
    public static final Health NONE = new Health(List.of(), Duration.ofSeconds(2), Duration.ofSeconds(1), 3,
        Duration.ofSeconds(60), Duration.ZERO);

    public Health {
      checks = List.copyOf(checks);
    }
  }

  public sealed interface HealthCheck {
    record Http(URI url) implements HealthCheck {}

    record Tcp(String host, int port) implements HealthCheck {}

    record Exec(String path) implements HealthCheck {}
  }
}
