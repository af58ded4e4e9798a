package io.rackroll.release;

import io.rackroll.release.Manifest.Health;
import io.rackroll.release.Manifest.HealthCheck;
import io.rackroll.release.Manifest.TemplateFile;
import io.rackroll.release.Manifest.Hook;
import io.rackroll.release.Manifest.HookPoint;
import io.rackroll.release.Manifest.Requirements;
import io.rackroll.wire.Durations;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads {@code rackroll.yaml} from SnakeYAML's node tree, which keeps line numbers, so every
 * problem is reported as {@code rackroll.yaml line N: key.path: what (expected: ...)}. Collects
 * all problems before failing: an operator fixes the file once, not once per error.
 */
final class ManifestParser {
  private static final Pattern NAME = io.rackroll.wire.Names.APP.pattern();
  private static final Pattern VERSION = io.rackroll.wire.Names.VERSION.pattern();
  private static final Pattern ACCOUNT = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
  private static final Set<String> OS = Set.of("linux", "windows", "macos", "freebsd");
  private static final Set<String> ARCH = Set.of("x86_64", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64");

  private final String text;
  private final List<String> problems = new ArrayList<>();

  ManifestParser(String text) {
    this.text = text;
  }

  Manifest parse() throws ManifestException {
    Node root;
    try {
      root = io.rackroll.wire.YamlNodes.compose(text);
    } catch (MarkedYAMLException e) {
      throw new ManifestException(List.of(Manifest.FILE + " line " + (e.getProblemMark().getLine() + 1)
          + ": not valid YAML: " + io.rackroll.wire.Names.printable(e.getProblem())));
    } catch (YAMLException e) {
      throw new ManifestException(List.of(Manifest.FILE + ": not valid YAML: "
          + io.rackroll.wire.Names.printable(String.valueOf(e.getMessage()))));
    }
    if (!(root instanceof MappingNode)) {
      throw new ManifestException(List.of(Manifest.FILE + ": expected a mapping with name, version, requires, hooks, health"));
    }
    Map<String, Node> top = keys(root, "", List.of("name", "version", "requires", "hooks", "health", "templates"));
    String name = required(top, "name", NAME, "a-z, 0-9, '.', '_', '-', up to 63 characters");
    String version = required(top, "version", VERSION, "letters, digits, '.', '_', '+', '-', e.g. 1.4.2");
    Requirements requires = top.containsKey("requires") ? requires(top.get("requires")) : Requirements.NONE;
    Map<HookPoint, Hook> hooks = top.containsKey("hooks") ? hooks(top.get("hooks")) : Map.of();
    Health health = top.containsKey("health") ? health(top.get("health")) : Health.NONE;
    List<TemplateFile> templates = top.containsKey("templates") ? templates(top.get("templates")) : List.of();
    if (!problems.isEmpty()) {
      throw new ManifestException(problems.stream().map(ManifestParser::oneLine).toList());
    }
    return new Manifest(name, version, requires, hooks, health, templates, text);
  }

  private Requirements requires(Node node) {
    Map<String, Node> m = keys(node, "requires.", List.of("arch", "os", "minCores", "minMemory", "minFreeDisk"));
    List<String> arch = new ArrayList<>();
    if (m.containsKey("arch")) {
      Node a = m.get("arch");
      List<Node> items = a instanceof SequenceNode seq ? seq.getValue() : List.of(a);
      for (Node item : items) {
        String v = scalar(item, "requires.arch");
        if (v != null && !ARCH.contains(v)) {
          problem(item, "requires.arch", v, "one or more of " + String.join(", ", new java.util.TreeSet<>(ARCH)));
        } else if (v != null) {
          arch.add(v);
        }
      }
    }
    String os = "";
    if (m.containsKey("os")) {
      String v = scalar(m.get("os"), "requires.os");
      if (v != null && !OS.contains(v)) {
        problem(m.get("os"), "requires.os", v, "one of " + String.join(", ", new java.util.TreeSet<>(OS)));
      } else if (v != null) {
        os = v;
      }
    }
    int cores = 0;
    if (m.containsKey("minCores")) {
      String v = scalar(m.get("minCores"), "requires.minCores");
      if (v != null) {
        try {
          cores = Integer.parseInt(v);
          if (cores < 1) {
            throw new NumberFormatException();
          }
        } catch (NumberFormatException e) {
          problem(m.get("minCores"), "requires.minCores", v, "a whole number >= 1");
        }
      }
    }
    return new Requirements(arch, os, cores, size(m, "minMemory", "requires."), size(m, "minFreeDisk", "requires."));
  }

  /**
   * Files rendered in place at install with the environment's variables: a path (written 0600), or
   * {@code {path, mode, owner, group}} for a file others must read.
   */
  private List<TemplateFile> templates(Node node) {
    List<TemplateFile> out = new ArrayList<>();
    if (!(node instanceof SequenceNode seq)) {
      problems.add(at(node) + "templates: expected a list of files, e.g. [config/app.conf]");
      return out;
    }
    Set<String> seen = new java.util.HashSet<>();
    for (Node item : seq.getValue()) {
      TemplateFile t = item instanceof MappingNode ? templateSpec(item) : templateOf(path(item, "templates"));
      if (t != null && !seen.add(t.path())) {
        problems.add(at(item) + "templates: " + t.path() + " is listed twice");
      } else if (t != null) {
        out.add(t);
      }
    }
    return out;
  }

  private static TemplateFile templateOf(String path) {
    return path == null ? null : TemplateFile.ownerOnly(path);
  }

  private TemplateFile templateSpec(Node item) {
    Map<String, Node> spec = keys(item, "templates.", List.of("path", "mode", "owner", "group"));
    if (!spec.containsKey("path")) {
      problems.add(at(item) + "templates: missing \"path\" (expected: the file's path in the release)");
      return null;
    }
    String path = path(spec.get("path"), "templates.path");
    int mode = TemplateFile.DEFAULT_MODE;
    if (spec.containsKey("mode")) {
      String v = scalar(spec.get("mode"), "templates.mode");
      if (v != null && v.matches("0?[0-7]{3}")) {
        mode = Integer.parseInt(v, 8);
      } else if (v != null) {
        problem(spec.get("mode"), "templates.mode", v, "an octal mode from 0000 to 0777, e.g. 0640");
        return null;
      }
    }
    String owner = spec.containsKey("owner") ? account(spec.get("owner"), "templates.owner") : "";
    String group = spec.containsKey("group") ? account(spec.get("group"), "templates.group") : "";
    return path == null || owner == null || group == null ? null : new TemplateFile(path, mode, owner, group);
  }

  /** A user or group name as Debian's adduser accepts it. */
  private String account(Node n, String key) {
    String v = scalar(n, key);
    if (v != null && !ACCOUNT.matcher(v).matches()) {
      problem(n, key, v, "a user or group name on the host: a-z, 0-9, '_', '-', up to 32 characters");
      return null;
    }
    return v;
  }

  private Map<HookPoint, Hook> hooks(Node node) {
    List<String> allowed = new ArrayList<>();
    for (HookPoint p : HookPoint.values()) {
      allowed.add(p.key());
    }
    Map<String, Node> m = keys(node, "hooks.", allowed);
    Map<HookPoint, Hook> hooks = new EnumMap<>(HookPoint.class);
    for (HookPoint point : HookPoint.values()) {
      Node h = m.get(point.key());
      if (h == null) {
        continue;
      }
      String key = "hooks." + point.key();
      if (h instanceof MappingNode) {
        Map<String, Node> spec = keys(h, key + ".", List.of("run", "timeout"));
        if (!spec.containsKey("run")) {
          problems.add(at(h) + key + ": missing \"run\" (expected: the script's path in the release)");
          continue;
        }
        String path = path(spec.get("run"), key + ".run");
        Duration timeout = spec.containsKey("timeout") ? duration(spec.get("timeout"), key + ".timeout")
            : Manifest.DEFAULT_HOOK_TIMEOUT;
        if (path != null && timeout != null) {
          hooks.put(point, new Hook(path, timeout));
        }
      } else {
        String path = path(h, key);
        if (path != null) {
          hooks.put(point, new Hook(path, Manifest.DEFAULT_HOOK_TIMEOUT));
        }
      }
    }
    return hooks;
  }

  private Health health(Node node) {
    Map<String, Node> m = keys(node, "health.", List.of("checks", "interval", "timeout", "healthyAfter", "deadline",
        "bake"));
    List<HealthCheck> checks = new ArrayList<>();
    if (m.containsKey("checks")) {
      if (!(m.get("checks") instanceof SequenceNode seq)) {
        problems.add(at(m.get("checks")) + "health.checks: expected a list such as \"- http: http://127.0.0.1:8080/healthz\"");
      } else {
        for (Node item : seq.getValue()) {
          HealthCheck c = check(item);
          if (c != null) {
            checks.add(c);
          }
        }
      }
    }
    Health d = Health.NONE;
    Duration interval = m.containsKey("interval") ? duration(m.get("interval"), "health.interval") : d.interval();
    Duration timeout = m.containsKey("timeout") ? duration(m.get("timeout"), "health.timeout") : d.timeout();
    Duration deadline = m.containsKey("deadline") ? duration(m.get("deadline"), "health.deadline") : d.deadline();
    Duration bake = m.containsKey("bake") ? duration(m.get("bake"), "health.bake") : d.bake();
    int healthyAfter = d.healthyAfter();
    if (m.containsKey("healthyAfter")) {
      String v = scalar(m.get("healthyAfter"), "health.healthyAfter");
      try {
        healthyAfter = v == null ? healthyAfter : Integer.parseInt(v);
        if (healthyAfter < 1) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        problem(m.get("healthyAfter"), "health.healthyAfter", v, "a whole number of consecutive passes >= 1");
      }
    }
    if (interval == null || timeout == null || deadline == null || bake == null) {
      return d;
    }
    if (timeout.compareTo(interval) > 0) {
      problems.add(at(m.get("timeout")) + "health.timeout: " + Durations.format(timeout)
          + " (expected: at most health.interval " + Durations.format(interval) + ")");
    }
    return new Health(checks, interval, timeout, healthyAfter, deadline, bake);
  }

  private HealthCheck check(Node item) {
    if (!(item instanceof MappingNode map) || map.getValue().size() != 1) {
      problems.add(at(item) + "health.checks: each check is one of \"http: URL\", \"tcp: HOST:PORT\", \"exec: PATH\"");
      return null;
    }
    NodeTuple t = map.getValue().get(0);
    String kind = scalar(t.getKeyNode(), "health.checks");
    String key = "health.checks." + kind;
    String value = scalar(t.getValueNode(), key);
    if (kind == null || value == null) {
      return null;
    }
    switch (kind) {
      case "http" -> {
        try {
          URI uri = new URI(value);
          if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new URISyntaxException(value, "not http(s)");
          }
          return new HealthCheck.Http(uri);
        } catch (URISyntaxException e) {
          problem(t.getValueNode(), key, value, "an http:// or https:// URL with a host");
        }
      }
      case "tcp" -> {
        try {
          io.rackroll.wire.HostPort hp = io.rackroll.wire.HostPort.parse(key, value);
          return new HealthCheck.Tcp(hp.host(), hp.port());
        } catch (IllegalArgumentException e) {
          problem(t.getValueNode(), key, value, "HOST:PORT, e.g. 127.0.0.1:8080");
        }
      }
      case "exec" -> {
        String path = path(t.getValueNode(), key);
        if (path != null) {
          return new HealthCheck.Exec(path);
        }
      }
      default -> problems.add(at(t.getKeyNode()) + "health.checks: unknown check \"" + kind
          + "\" (expected one of: http, tcp, exec)");
    }
    return null;
  }

  /** The keys of a mapping; unknown and repeated keys are problems. */
  private Map<String, Node> keys(Node node, String prefix, List<String> allowed) {
    Map<String, Node> out = new LinkedHashMap<>();
    if (!(node instanceof MappingNode map)) {
      problems.add(at(node) + (prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1) + ": ")
          + "expected a mapping with " + String.join(", ", allowed));
      return out;
    }
    for (NodeTuple t : map.getValue()) {
      String key = t.getKeyNode() instanceof ScalarNode s ? s.getValue() : "?";
      if (!allowed.contains(key)) {
        problems.add(at(t.getKeyNode()) + "unknown key \"" + prefix + key + "\" (expected one of: "
            + String.join(", ", allowed) + ")");
      } else if (out.put(key, t.getValueNode()) != null) {
        problems.add(at(t.getKeyNode()) + prefix + key + ": given twice (expected: once)");
      }
    }
    return out;
  }

  private String required(Map<String, Node> m, String key, Pattern pattern, String expected) {
    Node n = m.get(key);
    if (n == null) {
      problems.add(Manifest.FILE + ": " + key + ": missing (expected: " + expected + ")");
      return "";
    }
    String v = scalar(n, key);
    if (v != null && !pattern.matcher(v).matches()) {
      problem(n, key, v, expected);
    }
    return v == null ? "" : v;
  }

  private long size(Map<String, Node> m, String key, String prefix) {
    if (!m.containsKey(key)) {
      return 0;
    }
    String v = scalar(m.get(key), prefix + key);
    long bytes = v == null ? 0 : Sizes.parse(v);
    if (bytes < 0) {
      problem(m.get(key), prefix + key, v, "a size such as 512MiB, 8GiB or 2GB");
      return 0;
    }
    return bytes;
  }

  private Duration duration(Node n, String key) {
    String v = scalar(n, key);
    if (v == null) {
      return null;
    }
    try {
      Duration d = Durations.parse(key, v);
      if (d.isZero()) {
        throw new IllegalArgumentException();
      }
      return d;
    } catch (IllegalArgumentException e) {
      problem(n, key, v, "a duration such as 500ms, 2s or 5m");
      return null;
    }
  }

  /** A relative path inside the release: no leading '/', no '..', no empty segments. */
  private String path(Node n, String key) {
    String v = scalar(n, key);
    if (v == null) {
      return null;
    }
    String normalized = v.startsWith("./") ? v.substring(2) : v;
    if (normalized.isEmpty() || normalized.startsWith("/") || normalized.contains("\\")
        || List.of(normalized.split("/", -1)).stream().anyMatch(s -> s.isEmpty() || s.equals("..") || s.equals("."))) {
      problem(n, key, v, "a relative path inside the release, e.g. hooks/start.sh");
      return null;
    }
    return normalized;
  }

  private String scalar(Node n, String key) {
    if (n instanceof ScalarNode s && !s.getValue().isEmpty()) {
      return s.getValue();
    }
    problems.add(at(n) + key + ": expected a single value");
    return null;
  }

  private void problem(Node n, String key, String value, String expected) {
    problems.add(at(n) + key + ": " + value + " (expected: " + expected + ")");
  }

  /** A problem as the operator reads it: on one line, however the author's YAML quoted its values. */
  private static String oneLine(String problem) {
    String p = io.rackroll.wire.Names.printable(problem);
    return p.length() <= 500 ? p : p.substring(0, 500) + "… (" + p.length() + " characters)";
  }

  private static String at(Node n) {
    return Manifest.FILE + " line " + (n.getStartMark().getLine() + 1) + ": ";
  }
}
