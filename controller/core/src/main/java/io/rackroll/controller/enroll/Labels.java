package io.rackroll.controller.enroll;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** Label syntax: keys and values an operator can type in a selector. */
public final class Labels {
  private static final Pattern KEY = io.rackroll.wire.Names.LABEL_KEY.pattern();
  private static final Pattern VALUE = io.rackroll.wire.Names.LABEL_VALUE.pattern();

  private Labels() {}

  /** Parses {@code rack=r1,role=web}; an empty string is no labels. */
  public static Map<String, String> parse(String text) {
    Map<String, String> labels = new LinkedHashMap<>();
    if (text == null || text.isBlank()) {
      return labels;
    }
    for (String pair : text.split(",", -1)) {
      int eq = pair.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException("label \"" + pair.trim() + "\" (expected: key=value, e.g. rack=r1)");
      }
      String key = pair.substring(0, eq).trim();
      if (labels.put(key, pair.substring(eq + 1).trim()) != null) {
        throw new IllegalArgumentException("label \"" + key + "\" given twice (expected: each key once)");
      }
    }
    check(labels);
    return labels;
  }

  /** Whether {@code key} is a valid label key. */
  public static boolean isKey(String key) {
    return KEY.matcher(key).matches();
  }

  /** {@code rack=r1,role=web}, keys in order; "none" for no labels. */
  public static String format(Map<String, String> labels) {
    return labels.isEmpty() ? "none" : new java.util.TreeMap<>(labels).entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue()).collect(java.util.stream.Collectors.joining(","));
  }

  public static void check(Map<String, String> labels) {
    labels.forEach((k, v) -> {
      if (!KEY.matcher(k).matches()) {
        throw new IllegalArgumentException("label key \"" + k + "\" (expected: 1-63 of A-Z a-z 0-9 . _ / -, starting with a letter or digit)");
      }
      if (!VALUE.matcher(v).matches()) {
        throw new IllegalArgumentException("label " + k + "=\"" + v + "\" (expected: 1-255 of A-Z a-z 0-9 . _ / -)");
      }
    });
  }
}
