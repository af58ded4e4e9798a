package io.rackroll.controller.cli;

import io.rackroll.controller.strategy.Strategy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import picocli.CommandLine.Option;

/**
 * How a deployment rolls out, as flags or a YAML file ({@code -f}) with the same option names;
 * a flag wins over the file. Values are checked by the controller, which names the option.
 */
final class RolloutOptions {
  @Option(names = {"-f", "--file"}, paramLabel = "FILE",
      description = "A YAML deployment file with any of these options by name (batch: 25%%, maxPerRack: 1, ...);"
          + " flags win over it.")
  Path file;

  @Option(names = "--batch", paramLabel = "N|P%", description = "Hosts changed at once after the canary"
      + " (default: 10%%, at least 1; rollback: 100%%).")
  String batch;

  @Option(names = "--canary", paramLabel = "N|P%", description = "A first batch on its own (default: 1; rollback: 0).")
  String canary;

  @Option(names = "--approve-after-canary",
      description = "Stop after the canary until 'rackroll deployment approve ID'.")
  boolean approveAfterCanary;

  @Option(names = "--max-per-rack", paramLabel = "N", description = "Never more than N hosts of one failure domain"
      + " in one batch (default: 0, no limit).")
  String maxPerRack;

  @Option(names = "--by-rack", description = "One whole failure domain per batch after the canary.")
  boolean byRack;

  @Option(names = "--failure-domain", paramLabel = "LABEL", description = "The label naming a host's failure domain"
      + " (default: rack).")
  String failureDomain;

  @Option(names = "--health-gate", paramLabel = "DURATION", description = "How long every host of a batch must stay"
      + " healthy before the next batch (default: 30s; rollback: 0s).")
  String healthGate;

  @Option(names = "--max-failures", paramLabel = "N|P%", description = "The failure budget over the whole deployment"
      + " (default: 0). Failed, timed-out, rolled-back, unhealthy and unreachable hosts count; refusals count unless"
      + " --skip-unfit. Past it the deployment halts.")
  String maxFailures;

  @Option(names = "--no-auto-rollback", description = "On a halt, leave changed hosts as they are instead of"
      + " returning them to their release before.")
  boolean noAutoRollback;

  @Option(names = "--host-timeout", paramLabel = "DURATION", description = "A host without progress for this long"
      + " counts as failed (default: 10m).")
  String hostTimeout;

  @Option(names = "--offline", paramLabel = "wait|skip|fail", description = "Selected hosts not connected when their"
      + " batch starts: wait up to the host timeout, skip them (listed), or count them failed (default: wait).")
  String offline;

  @Option(names = "--skip-unfit", description = "Hosts that cannot take the release (its requires, against the"
      + " facts they reported or live on the host) are skipped (listed). Without it a deployment with such hosts"
      + " is refused before it starts, and a host that refuses at its own check counts as failed.")
  boolean skipUnfit;

  /** The options given, file first, flags over it. */
  Map<String, String> toMap() throws IOException {
    Map<String, String> m = new LinkedHashMap<>();
    if (file != null) {
      m.putAll(readFile(file));
    }
    put(m, "batch", batch);
    put(m, "canary", canary);
    put(m, "maxPerRack", maxPerRack);
    put(m, "failureDomain", failureDomain);
    put(m, "healthGate", healthGate);
    put(m, "maxFailures", maxFailures);
    put(m, "hostTimeout", hostTimeout);
    put(m, "offline", offline);
    if (approveAfterCanary) {
      m.put("approveAfterCanary", "true");
    }
    if (byRack) {
      m.put("byRack", "true");
    }
    if (noAutoRollback) {
      m.put("autoRollback", "false");
    }
    if (skipUnfit) {
      m.put("skipUnfit", "true");
    }
    return m;
  }

  private static void put(Map<String, String> m, String key, String value) {
    if (value != null) {
      m.put(key, value);
    }
  }

  /** Reads a deployment file; errors name the file, the line and the option. */
  static Map<String, String> readFile(Path file) throws IOException {
    String text = InputFile.text(file, "deployment file", InputFile.TEXT_LIMIT);
    Node root;
    try {
      root = io.rackroll.wire.YamlNodes.compose(text);
    } catch (YAMLException e) {
      throw new IllegalArgumentException(file + ": not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
    }
    Map<String, String> m = new LinkedHashMap<>();
    if (root == null) {
      return m;
    }
    if (!(root instanceof MappingNode map)) {
      throw new IllegalArgumentException(file + ": expected options by name, e.g. \"batch: 25%\"");
    }
    for (NodeTuple t : map.getValue()) {
      int line = t.getKeyNode().getStartMark().getLine() + 1;
      String key = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : "?";
      if (!Strategy.OPTIONS.contains(key)) {
        throw new IllegalArgumentException(file + " line " + line + ": unknown option \"" + key + "\" (expected one of: "
            + String.join(", ", Strategy.OPTIONS) + ")");
      }
      if (!(t.getValueNode() instanceof ScalarNode v)) {
        throw new IllegalArgumentException(file + " line " + line + ": " + key + " needs a single value");
      }
      m.put(key, v.getValue());
    }
    return m;
  }
}
