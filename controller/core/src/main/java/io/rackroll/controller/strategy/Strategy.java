package io.rackroll.controller.strategy;

import io.rackroll.wire.Durations;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How a deployment rolls out. Options travel as a map of option name to text (the same names in
 * a {@code -f} deployment file, on the wire and in the store), so a value moves from flag to file
 * unchanged and every error names the option.
 *
 * @param batch hosts changed at once after the canary
 * @param canary a first batch on its own; 0 for none
 * @param approveAfterCanary stop after the canary until an admin approves
 * @param maxPerRack most hosts of one failure domain in flight or down at once; 0 for no limit
 * @param byRack one whole failure domain per batch
 * @param failureDomain the label that names a host's failure domain
 * @param healthGate how long every host of a batch must stay healthy before the next batch
 * @param maxFailures the failure budget over the whole deployment
 * @param autoRollback past the budget, return every changed host to its release before
 * @param hostTimeout a host without progress for this long counts as failed
 * @param offline what to do with a selected host that is not connected
 * @param skipUnfit hosts that refuse the release's requirements are skipped, not failed
 */
public record Strategy(Amount batch, Amount canary, boolean approveAfterCanary, int maxPerRack, boolean byRack,
    String failureDomain, Duration healthGate, Amount maxFailures, boolean autoRollback, Duration hostTimeout,
    Offline offline, boolean skipUnfit) {

  /** A selected host that is not connected when its batch starts. */
  public enum Offline {
    /** Wait for it up to the host timeout, then count it as failed. */
    WAIT,
    /** Leave it out and list it as skipped. */
    SKIP,
    /** Count it as failed at once. */
    FAIL
  }

  /** Option names, in the order help and stored forms show them. */
  public static final List<String> OPTIONS = List.of("batch", "canary", "approveAfterCanary", "maxPerRack", "byRack",
      "failureDomain", "healthGate", "maxFailures", "autoRollback", "hostTimeout", "offline", "skipUnfit");

  /** Defaults of {@code rackroll deploy}: careful. */
  public static final Map<String, String> DEPLOY_DEFAULTS = defaults("10%", "1", "30s", "true");
  /**
   * Defaults of {@code rackroll rollback}: an emergency, so every selected host at once and no
   * gate; and a failed rollback never "returns" hosts to the release being rolled back from.
   */
  public static final Map<String, String> ROLLBACK_DEFAULTS = defaults("100%", "0", "0s", "false");

  private static Map<String, String> defaults(String batch, String canary, String healthGate, String autoRollback) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("batch", batch);
    m.put("canary", canary);
    m.put("approveAfterCanary", "false");
    m.put("maxPerRack", "0");
    m.put("byRack", "false");
    m.put("failureDomain", "rack");
    m.put("healthGate", healthGate);
    m.put("maxFailures", "0");
    m.put("autoRollback", autoRollback);
    m.put("hostTimeout", "10m");
    m.put("offline", "wait");
    m.put("skipUnfit", "false");
    return Map.copyOf(m);
  }

  /** {@code options} over {@code defaults}; unknown names and bad values are refused by name. */
  public static Strategy of(Map<String, String> options, Map<String, String> defaults) {
    for (String key : options.keySet()) {
      if (!OPTIONS.contains(key)) {
        throw new StrategyException("unknown deployment option \"" + key + "\" (expected one of: "
            + String.join(", ", OPTIONS) + ")");
      }
    }
    Map<String, String> all = new LinkedHashMap<>(defaults);
    options.forEach((k, v) -> {
      if (v != null && !v.isBlank()) {
        all.put(k, v.trim());
      }
    });
    Strategy s = new Strategy(
        Amount.parse(flag("batch"), all.get("batch")),
        Amount.parse(flag("canary"), all.get("canary")),
        bool("approveAfterCanary", all),
        count("maxPerRack", all),
        bool("byRack", all),
        label(all.get("failureDomain")),
        duration("healthGate", all),
        Amount.parse(flag("maxFailures"), all.get("maxFailures")),
        bool("autoRollback", all),
        duration("hostTimeout", all),
        offline(all.get("offline")),
        bool("skipUnfit", all));
    if (s.batch.value() == 0) {
      throw new StrategyException(flag("batch") + ": must be at least 1 host or 1%");
    }
    if (s.hostTimeout.isZero()) {
      throw new StrategyException(flag("hostTimeout") + ": must be longer than 0s");
    }
    return s;
  }

  /** The canonical text of every option, for the store and for display. */
  public Map<String, String> toOptions() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("batch", batch.toString());
    m.put("canary", canary.toString());
    m.put("approveAfterCanary", Boolean.toString(approveAfterCanary));
    m.put("maxPerRack", Integer.toString(maxPerRack));
    m.put("byRack", Boolean.toString(byRack));
    m.put("failureDomain", failureDomain);
    m.put("healthGate", Durations.format(healthGate));
    m.put("maxFailures", maxFailures.toString());
    m.put("autoRollback", Boolean.toString(autoRollback));
    m.put("hostTimeout", Durations.format(hostTimeout));
    m.put("offline", offline.name().toLowerCase(Locale.ROOT));
    m.put("skipUnfit", Boolean.toString(skipUnfit));
    return m;
  }

  /** "maxPerRack (--max-per-rack)": the option as the file and the CLI spell it. */
  static String flag(String option) {
    return option + " (--" + option.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT) + ")";
  }

  private static boolean bool(String key, Map<String, String> all) {
    return switch (all.get(key).toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new StrategyException(flag(key) + ": expected true or false, got \"" + all.get(key) + "\"");
    };
  }

  private static int count(String key, Map<String, String> all) {
    String v = all.get(key);
    if (!v.matches("\\d{1,6}")) {
      throw new StrategyException(flag(key) + ": expected a whole number of hosts (0 for no limit), got \"" + v + "\"");
    }
    return Integer.parseInt(v);
  }

  private static Duration duration(String key, Map<String, String> all) {
    try {
      return Durations.parse(flag(key), all.get(key));
    } catch (IllegalArgumentException e) {
      throw new StrategyException(e.getMessage());
    }
  }

  private static String label(String v) {
    if (!io.rackroll.controller.enroll.Labels.isKey(v)) {
      throw new StrategyException(flag("failureDomain") + ": expected a label key like rack, got \"" + v + "\"");
    }
    return v;
  }

  private static Offline offline(String v) {
    try {
      return Offline.valueOf(v.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new StrategyException(flag("offline") + ": expected wait, skip or fail, got \"" + v + "\"");
    }
  }
}
