package io.rackroll.agent;

import io.rackroll.agent.identity.ReleaseTrust;
import io.rackroll.trust.ReleaseKey;
import io.rackroll.wire.Durations;
import io.rackroll.wire.HostPort;
import io.rackroll.wire.YamlNodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * The agent's settings, from {@code /etc/rackroll/agent.yaml} (or {@code --config}) with flags
 * on top. The file is the operator's (a conffile of the package): nothing the agent does writes
 * it. {@code enroll} keeps the controller's address with the identity instead.
 */
record AgentConfig(HostPort controller, Path stateDir, Path pkiDir, Duration factsInterval,
    Duration reconnectBackoffBase, Duration reconnectBackoffCap, int keepReleases, Duration healthReportInterval,
    HostPort metrics, List<ReleaseKey> releaseKeys, ReleaseTrust.Policy requireSignedReleases) {
  static final Path DEFAULT_FILE = Path.of("/etc/rackroll/agent.yaml");
  static final Path DEFAULT_STATE = Path.of("/var/lib/rackroll");

  /** Reads {@code file}; a missing file is all defaults. Errors name the file, key and line. */
  static AgentConfig load(Path file) {
    FileForm form = new FileForm();
    try {
      form = FileForm.parse(file, Files.readString(file));
    } catch (NoSuchFileException e) {
      // all defaults
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
    }
    try {
      Path parent = file.toAbsolutePath().getParent();
      return new AgentConfig(
          form.controller == null ? null : HostPort.parse("controller", form.controller),
          form.stateDir == null ? DEFAULT_STATE : Path.of(form.stateDir),
          form.pkiDir == null ? parent.resolve("pki") : Path.of(form.pkiDir),
          Durations.parse("factsInterval", form.factsInterval),
          Durations.parse("reconnectBackoffBase", form.reconnectBackoffBase),
          Durations.parse("reconnectBackoffCap", form.reconnectBackoffCap),
          keep(form.keepReleases),
          Durations.parse("healthReportInterval", form.healthReportInterval),
          form.metrics == null || form.metrics.equals("off") ? null : HostPort.parse("metrics", form.metrics),
          releaseKeys(form.releaseKeys, form.releaseKeysDir == null ? parent.resolve("release-keys")
              : Path.of(form.releaseKeysDir)),
          ReleaseTrust.Policy.parse(form.requireSignedReleases));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The keys listed in the file, then those in {@code dir} (each {@code *.pub} file one key, as
   * {@code rackroll release keygen} writes it): where a package of the operator's own ships them
   * without touching this file.
   */
  private static List<ReleaseKey> releaseKeys(List<String> lines, Path dir) {
    List<ReleaseKey> keys = new java.util.ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      try {
        keys.add(ReleaseKey.parse(lines.get(i)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("releaseKeys[" + i + "]: " + e.getMessage());
      }
    }
    try (var files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".pub")).sorted().toList()) {
        try {
          keys.add(ReleaseKey.parse(Files.readString(f)));
        } catch (IllegalArgumentException | IOException e) {
          throw new IllegalArgumentException(f + ": " + e.getMessage());
        }
      }
    } catch (NoSuchFileException e) {
      // no keys shipped that way
    } catch (IOException e) {
      throw new IllegalArgumentException(dir + ": cannot read: " + e.getMessage());
    }
    return keys;
  }

  private static int keep(int n) {
    if (n < 2) {
      throw new IllegalArgumentException("keepReleases: " + n + " (expected: >= 2, so a rollback never needs a download)");
    }
    return n;
  }

  AgentConfig withController(HostPort c) {
    return new AgentConfig(c, stateDir, pkiDir, factsInterval, reconnectBackoffBase, reconnectBackoffCap, keepReleases,
        healthReportInterval, metrics, releaseKeys, requireSignedReleases);
  }

  AgentConfig withStateDir(Path s) {
    return new AgentConfig(controller, s, pkiDir, factsInterval, reconnectBackoffBase, reconnectBackoffCap, keepReleases,
        healthReportInterval, metrics, releaseKeys, requireSignedReleases);
  }

  AgentConfig withFactsInterval(Duration d) {
    return new AgentConfig(controller, stateDir, pkiDir, d, reconnectBackoffBase, reconnectBackoffCap, keepReleases,
        healthReportInterval, metrics, releaseKeys, requireSignedReleases);
  }

  /** The file as written: each key's text, or its default where the file has none (or leaves it empty). */
  static final class FileForm {
    static final List<String> KEYS = List.of("controller", "stateDir", "pkiDir", "factsInterval",
        "reconnectBackoffBase", "reconnectBackoffCap", "keepReleases", "healthReportInterval", "metrics", "releaseKeys",
        "releaseKeysDir", "requireSignedReleases");
    String controller;
    String stateDir;
    String pkiDir;
    String factsInterval = "60s";
    String reconnectBackoffBase = "1s";
    String reconnectBackoffCap = "15s";
    int keepReleases = 3;
    String healthReportInterval = "30s";
    String metrics = "off";
    List<String> releaseKeys = List.of();
    String releaseKeysDir;
    String requireSignedReleases = "false";

    static FileForm parse(Path file, String yaml) {
      FileForm form = new FileForm();
      Node root;
      try {
        root = YamlNodes.compose(yaml);
      } catch (YAMLException e) {
        Mark at = e instanceof MarkedYAMLException m ? m.getProblemMark() : null;
        String problem = e instanceof MarkedYAMLException m && m.getProblem() != null ? m.getProblem()
            : String.valueOf(e.getMessage()).lines().findFirst().orElse("");
        throw new IllegalArgumentException(file + (at == null ? "" : " line " + (at.getLine() + 1)) + ": not valid YAML: "
            + problem, e);
      }
      if (root == null) {
        return form;
      }
      if (!(root instanceof MappingNode map)) {
        throw new IllegalArgumentException(file + ": expected settings by name, e.g. \"controller: ctl.example.net:7443\"");
      }
      for (NodeTuple t : map.getValue()) {
        String where = file + " line " + (t.getKeyNode().getStartMark().getLine() + 1) + ": ";
        String key = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : "?";
        Node value = t.getValueNode();
        if (!KEYS.contains(key)) {
          throw new IllegalArgumentException(where + "unknown key \"" + key + "\" (expected one of: "
              + String.join(", ", KEYS) + ")");
        }
        if (value.getTag().equals(Tag.NULL)) {
          continue; // "key:" with nothing after it: the default
        }
        switch (key) {
          case "controller" -> form.controller = text(where, key, value);
          case "stateDir" -> form.stateDir = text(where, key, value);
          case "pkiDir" -> form.pkiDir = text(where, key, value);
          case "factsInterval" -> form.factsInterval = text(where, key, value);
          case "reconnectBackoffBase" -> form.reconnectBackoffBase = text(where, key, value);
          case "reconnectBackoffCap" -> form.reconnectBackoffCap = text(where, key, value);
          case "keepReleases" -> form.keepReleases = number(where, key, value);
          case "healthReportInterval" -> form.healthReportInterval = text(where, key, value);
          case "metrics" -> form.metrics = text(where, key, value);
          case "releaseKeys" -> form.releaseKeys = lines(where, key, value);
          case "releaseKeysDir" -> form.releaseKeysDir = text(where, key, value);
          default -> form.requireSignedReleases = text(where, key, value);
        }
      }
      return form;
    }

    private static String text(String where, String key, Node value) {
      if (value instanceof ScalarNode s) {
        return s.getValue();
      }
      throw new IllegalArgumentException(where + key + " needs a single value");
    }

    private static int number(String where, String key, Node value) {
      String text = text(where, key, value);
      try {
        return Integer.parseInt(text.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(where + key + ": " + text + " (expected: a whole number)");
      }
    }

    private static List<String> lines(String where, String key, Node value) {
      if (!(value instanceof SequenceNode seq)) {
        throw new IllegalArgumentException(where + key + ": expected a list, one key a line (\"- ed25519 ...\")");
      }
      List<String> out = new java.util.ArrayList<>();
      for (Node item : seq.getValue()) {
        out.add(text(where, key + "[" + out.size() + "]", item));
      }
      return out;
    }
  }
}
