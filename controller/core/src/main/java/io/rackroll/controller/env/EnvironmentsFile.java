package io.rackroll.controller.env;

import io.rackroll.controller.strategy.Strategy;
import io.rackroll.controller.strategy.StrategyException;
import io.rackroll.controller.select.Selector;
import io.rackroll.controller.select.SelectorException;
import io.rackroll.release.Template;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads an environments file. Every mistake is refused with the file, the line and the key
 * ({@code environments.yaml line 14: production.windows[0].start: ...}), so nothing half-valid is
 * ever applied.
 *
 * <pre>
 * lifecycle: [staging, production]
 * environments:
 *   staging:
 *     selector: env=staging
 *     strategy: {batch: 50%, healthGate: 10s}
 *     variables: {db.host: db.staging.internal, log.level: debug}
 *   production:
 *     selector: env=prod
 *     timezone: Europe/Berlin
 *     strategy: {batch: 10%, maxPerRack: 1, maxFailures: 1}
 *     windows:
 *       - {days: mon-thu, start: "09:00", end: "16:00"}
 *     freezes:
 *       - {from: 2026-12-20, to: 2027-01-03, reason: year-end}
 *     requirePromotion: true   # a release gets here by 'rackroll promote' only
 * </pre>
 */
public final class EnvironmentsFile {
  private static final Pattern NAME = io.rackroll.wire.Names.ENVIRONMENT.pattern();
  private static final Pattern TIME = Pattern.compile("([01]\\d|2[0-3]):[0-5]\\d|24:00");
  private static final List<String> TOP = List.of("lifecycle", "environments");
  private static final List<String> ENVIRONMENT = List.of("selector", "timezone", "strategy", "variables", "windows",
      "freezes", "requirePromotion");
  private static final List<String> WINDOW = List.of("days", "start", "end", "zone");
  private static final List<String> FREEZE = List.of("from", "to", "reason");

  private final String source;

  private EnvironmentsFile(String source) {
    this.source = source;
  }

  /** Parses {@code yaml}; {@code source} names it in errors (the file name the operator gave). */
  public static Environments parse(String yaml, String source, int version, String appliedBy, Instant appliedAt) {
    EnvironmentsFile f = new EnvironmentsFile(source);
    Node root;
    try {
      root = io.rackroll.wire.YamlNodes.compose(yaml);
    } catch (YAMLException e) {
      throw new EnvironmentException(source + ": not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (root == null) {
      throw new EnvironmentException(source + ": empty; expected \"environments:\" with at least one environment");
    }
    Map<String, Node> top = f.map(root, "", TOP);
    Node envs = top.get("environments");
    if (envs == null) {
      throw f.error(root, "", "missing \"environments:\" (each environment by name, with its selector)");
    }
    Map<String, Environment> byName = new LinkedHashMap<>();
    Map<String, Node> promotionOnly = new LinkedHashMap<>();
    MappingNode envMap = f.mapping(envs, "environments");
    for (NodeTuple t : envMap.getValue()) {
      String name = f.scalar(t.getKeyNode(), "environments");
      if (!NAME.matcher(name).matches()) {
        throw f.error(t.getKeyNode(), "environments", "environment name \"" + name
            + "\" must be lowercase letters, digits and '-', at most 31 characters");
      }
      if (byName.containsKey(name)) {
        throw f.error(t.getKeyNode(), "environments", "environment \"" + name + "\" is declared twice");
      }
      byName.put(name, f.environment(name, t.getValueNode()));
      if (byName.get(name).requirePromotion()) {
        promotionOnly.put(name, f.map(t.getValueNode(), name, ENVIRONMENT).get("requirePromotion"));
      }
    }
    if (byName.isEmpty()) {
      throw f.error(envs, "environments", "no environments declared");
    }
    List<String> lifecycle = new ArrayList<>();
    Node lc = top.get("lifecycle");
    if (lc != null) {
      for (Node n : f.sequence(lc, "lifecycle")) {
        String name = f.scalar(n, "lifecycle");
        if (!byName.containsKey(name)) {
          throw f.error(n, "lifecycle", "unknown environment \"" + name + "\" (declared: "
              + String.join(", ", byName.keySet()) + ")");
        }
        if (lifecycle.contains(name)) {
          throw f.error(n, "lifecycle", "\"" + name + "\" appears twice; a release goes through each environment once");
        }
        lifecycle.add(name);
      }
    }
    for (Map.Entry<String, Node> e : promotionOnly.entrySet()) {
      if (!lifecycle.contains(e.getKey())) {
        throw f.error(e.getValue(), e.getKey() + ".requirePromotion", e.getKey() + " is not in the lifecycle, so"
            + " nothing could ever be promoted to it; add it to \"lifecycle\"");
      }
    }
    return new Environments(version, lifecycle, byName, yaml, appliedBy, appliedAt);
  }

  private Environment environment(String name, Node node) {
    Map<String, Node> m = map(node, name, ENVIRONMENT);
    Node sel = m.get("selector");
    if (sel == null) {
      throw error(node, name, "missing \"selector\" (which agents belong to " + name + ", e.g. env=" + name + ")");
    }
    String selText = scalar(sel, name + ".selector");
    if (selText.isBlank()) {
      throw error(sel, name + ".selector", "must not be empty: an environment of every agent would overlap all others");
    }
    Selector selector;
    try {
      selector = Selector.parse(selText);
    } catch (SelectorException e) {
      throw error(sel, name + ".selector", e.getMessage());
    }
    ZoneId zone = ZoneId.of("UTC");
    if (m.containsKey("timezone")) {
      zone = zone(m.get("timezone"), name + ".timezone");
    }
    Map<String, String> strategy = new LinkedHashMap<>();
    if (m.containsKey("strategy")) {
      String at = name + ".strategy";
      for (NodeTuple t : mapping(m.get("strategy"), at).getValue()) {
        String key = scalar(t.getKeyNode(), at);
        if (!Strategy.OPTIONS.contains(key)) {
          throw error(t.getKeyNode(), at, "unknown option \"" + key + "\" (expected one of: "
              + String.join(", ", Strategy.OPTIONS) + ")");
        }
        strategy.put(key, scalar(t.getValueNode(), at + "." + key));
      }
      try {
        Strategy.of(strategy, Strategy.DEPLOY_DEFAULTS);
      } catch (StrategyException e) {
        throw error(m.get("strategy"), at, e.getMessage());
      }
    }
    Map<String, String> variables = new LinkedHashMap<>();
    if (m.containsKey("variables")) {
      String at = name + ".variables";
      for (NodeTuple t : mapping(m.get("variables"), at).getValue()) {
        String key = scalar(t.getKeyNode(), at);
        if (!Template.NAME.matcher(key).matches()) {
          throw error(t.getKeyNode(), at, "\"" + key + "\" is not a variable name (letters, digits, '_', '.', '-',"
              + " starting with a letter or '_')");
        }
        if (variables.containsKey(key)) {
          throw error(t.getKeyNode(), at, "\"" + key + "\" given twice");
        }
        Node v = t.getValueNode();
        if (!(v instanceof ScalarNode sv)) {
          throw error(v, at + "." + key, "expected a single value (quote it to keep it as text)");
        }
        variables.put(key, sv.getValue());
      }
    }
    List<ChangeWindow> windows = new ArrayList<>();
    if (m.containsKey("windows")) {
      List<Node> items = sequence(m.get("windows"), name + ".windows");
      for (int i = 0; i < items.size(); i++) {
        windows.add(window(items.get(i), name + ".windows[" + i + "]", zone));
      }
      if (windows.isEmpty()) {
        throw error(m.get("windows"), name + ".windows", "an empty list would never allow a change;"
            + " leave \"windows\" out to allow changes at any time");
      }
    }
    List<Freeze> freezes = new ArrayList<>();
    if (m.containsKey("freezes")) {
      List<Node> items = sequence(m.get("freezes"), name + ".freezes");
      for (int i = 0; i < items.size(); i++) {
        freezes.add(freeze(items.get(i), name + ".freezes[" + i + "]", zone));
      }
    }
    boolean requirePromotion = false;
    if (m.containsKey("requirePromotion")) {
      String v = scalar(m.get("requirePromotion"), name + ".requirePromotion");
      if (!v.equals("true") && !v.equals("false")) {
        throw error(m.get("requirePromotion"), name + ".requirePromotion", "\"" + v + "\" (expected true or false)");
      }
      requirePromotion = Boolean.parseBoolean(v);
    }
    return new Environment(name, selector, strategy, variables, new Schedule(windows, freezes, zone), requirePromotion);
  }

  private ChangeWindow window(Node node, String at, ZoneId envZone) {
    Map<String, Node> m = map(node, at, WINDOW);
    for (String key : List.of("days", "start", "end")) {
      if (!m.containsKey(key)) {
        throw error(node, at, "missing \"" + key + "\" (e.g. {days: mon-fri, start: \"09:00\", end: \"17:00\"})");
      }
    }
    Set<DayOfWeek> days;
    Node d = m.get("days");
    try {
      if (d instanceof SequenceNode seq) {
        List<String> names = new ArrayList<>();
        for (Node n : seq.getValue()) {
          names.add(scalar(n, at + ".days"));
        }
        days = ChangeWindow.Days.parse(String.join(",", names));
      } else {
        days = ChangeWindow.Days.parse(scalar(d, at + ".days"));
      }
    } catch (IllegalArgumentException e) {
      throw error(d, at + ".days", e.getMessage());
    }
    String start = time(m.get("start"), at + ".start");
    String end = time(m.get("end"), at + ".end");
    if (start.equals("24:00")) {
      throw error(m.get("start"), at + ".start", "a window starts at 23:59 at the latest");
    }
    if (start.equals(end)) {
      throw error(m.get("end"), at + ".end", "equals the start; for a whole day use start \"00:00\" and end \"24:00\"");
    }
    ZoneId zone = m.containsKey("zone") ? zone(m.get("zone"), at + ".zone") : envZone;
    boolean endOfDay = end.equals("24:00");
    return new ChangeWindow(days, LocalTime.parse(start), endOfDay ? LocalTime.MIDNIGHT : LocalTime.parse(end),
        endOfDay, zone);
  }

  private Freeze freeze(Node node, String at, ZoneId zone) {
    Map<String, Node> m = map(node, at, FREEZE);
    for (String key : FREEZE) {
      if (!m.containsKey(key)) {
        throw error(node, at, "missing \"" + key + "\" (e.g. {from: 2026-12-20, to: 2027-01-03, reason: year-end})");
      }
    }
    String fromText = scalar(m.get("from"), at + ".from");
    String toText = scalar(m.get("to"), at + ".to");
    Instant from = instant(m.get("from"), at + ".from", fromText, zone, false);
    Instant to = instant(m.get("to"), at + ".to", toText, zone, true);
    if (!to.isAfter(from)) {
      throw error(m.get("to"), at + ".to", "is not after \"from\" (" + fromText + ")");
    }
    String reason = scalar(m.get("reason"), at + ".reason");
    if (reason.isBlank()) {
      throw error(m.get("reason"), at + ".reason", "say why, for whoever is refused by it");
    }
    return new Freeze(from, to, reason, fromText + " to " + toText + (zone.getId().equals("UTC") ? "" : " " + zone.getId()));
  }

  /** A date means the whole day: from its first moment, or with {@code endOfDay} to the end of it. */
  private Instant instant(Node node, String at, String text, ZoneId zone, boolean endOfDay) {
    try {
      if (text.length() == 10) {
        LocalDate day = LocalDate.parse(text);
        return (endOfDay ? day.plusDays(1) : day).atStartOfDay(zone).toInstant();
      }
      return LocalDateTime.parse(text.replace(' ', 'T')).atZone(zone).toInstant();
    } catch (DateTimeParseException e) {
      throw error(node, at, "expected a date (2026-12-20) or a date and time (2026-12-20T18:00), got \"" + text + "\"");
    }
  }

  private String time(Node node, String at) {
    String v = scalar(node, at);
    if (v.matches("\\d:\\d\\d")) {
      v = "0" + v;
    }
    if (!TIME.matcher(v).matches()) {
      throw error(node, at, "expected a 24-hour time like \"09:00\" or \"24:00\", got \"" + v + "\"");
    }
    return v;
  }

  private ZoneId zone(Node node, String at) {
    String v = scalar(node, at);
    try {
      return ZoneId.of(v);
    } catch (DateTimeException e) {
      throw error(node, at, "unknown time zone \"" + v + "\" (expected a region like Europe/Berlin, or UTC)");
    }
  }

  // ---- YAML shapes ----

  private Map<String, Node> map(Node node, String at, List<String> keys) {
    Map<String, Node> m = new LinkedHashMap<>();
    Set<String> seen = new LinkedHashSet<>();
    for (NodeTuple t : mapping(node, at).getValue()) {
      String key = scalar(t.getKeyNode(), at);
      if (!keys.contains(key)) {
        throw error(t.getKeyNode(), at, "unknown key \"" + key + "\" (expected one of: " + String.join(", ", keys) + ")");
      }
      if (!seen.add(key)) {
        throw error(t.getKeyNode(), at, "\"" + key + "\" given twice");
      }
      m.put(key, t.getValueNode());
    }
    return m;
  }

  private MappingNode mapping(Node node, String at) {
    if (node instanceof MappingNode m) {
      return m;
    }
    throw error(node, at, "expected keys and values here");
  }

  private List<Node> sequence(Node node, String at) {
    if (node instanceof SequenceNode s) {
      return s.getValue();
    }
    throw error(node, at, "expected a list here");
  }

  private String scalar(Node node, String at) {
    if (node instanceof ScalarNode s) {
      return s.getValue().trim();
    }
    throw error(node, at, "expected a single value here");
  }

  private EnvironmentException error(Node node, String at, String message) {
    return new EnvironmentException(source + " line " + (node.getStartMark().getLine() + 1) + ": "
        + (at.isEmpty() ? "" : at + ": ") + message);
  }
}
