package io.rackroll.release;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Runtime flags: per app, a flat set of names to booleans, numbers or strings, which a running
 * release reads from {@code flags.json}. Kept everywhere as a map of name to the value's JSON text
 * ({@code true}, {@code 3}, {@code "blue"}), so what the operator typed is what the release reads.
 * In a change, the value {@code null} removes the flag.
 */
public final class FlagValues {
  /** A flag name: letters, digits, '_', '.', '-', starting with a letter. */
  public static final Pattern NAME = io.rackroll.wire.Names.FLAG.pattern();
  public static final String REMOVE = "null";
  private static final Pattern NUMBER = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");
  private static final ObjectMapper JSON = new ObjectMapper();

  private FlagValues() {
  }

  /**
   * One {@code name=value} as typed on the command line: {@code true}/{@code false} are booleans,
   * JSON numbers are numbers, a value in double quotes is that string, anything else a string.
   */
  public static Map.Entry<String, String> assignment(String text) {
    int eq = text.indexOf('=');
    if (eq <= 0) {
      throw new IllegalArgumentException("flag \"" + text + "\": expected NAME=VALUE, e.g. checkout.v2=true");
    }
    String name = name(text.substring(0, eq));
    String raw = text.substring(eq + 1);
    String value;
    if (raw.equals("true") || raw.equals("false") || NUMBER.matcher(raw).matches()) {
      value = raw;
    } else if (raw.length() >= 2 && raw.startsWith("\"") && raw.endsWith("\"")) {
      value = quote(raw.substring(1, raw.length() - 1));
    } else {
      value = quote(raw);
    }
    return Map.entry(name, value);
  }

  /** {@code name} if it is a valid flag name. */
  public static String name(String name) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("flag name \"" + name + "\": expected a letter, then letters, digits, '_',"
          + " '.' or '-' (at most 128)");
    }
    return name;
  }

  /** {@code current} with {@code changes} applied: a {@code null} change removes its flag. */
  public static Map<String, String> merge(Map<String, String> current, Map<String, String> changes) {
    Map<String, String> out = new TreeMap<>(current);
    changes.forEach((k, v) -> {
      if (v.equals(REMOVE)) {
        out.remove(k);
      } else {
        out.put(k, v);
      }
    });
    return out;
  }

  /** Whether {@code current} already holds every change. */
  public static boolean holds(Map<String, String> current, Map<String, String> changes) {
    return merge(current, changes).equals(new TreeMap<>(current));
  }

  /** The JSON object {@code flags} stands for, keys sorted. */
  public static String toJson(Map<String, String> flags) {
    ObjectNode o = JSON.createObjectNode();
    try {
      for (Map.Entry<String, String> e : new TreeMap<>(flags).entrySet()) {
        o.set(e.getKey(), JSON.readTree(e.getValue()));
      }
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("flag value is not JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** The flags in a JSON object; a flat object of booleans, numbers and strings. */
  public static Map<String, String> fromJson(String json) {
    return fromJson(json, false);
  }

  /** A change in a JSON object, as {@link #toJson} wrote it: flags set, and {@code null} for those removed. */
  public static Map<String, String> changesFromJson(String json) {
    return fromJson(json, true);
  }

  private static Map<String, String> fromJson(String json, boolean change) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("flags are not JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("flags: expected a JSON object");
    }
    Map<String, String> out = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isValueNode() || (e.getValue().isNull() && !change)) {
        throw new IllegalArgumentException("flag " + e.getKey() + ": expected a boolean, number or string");
      }
      out.put(name(e.getKey()), e.getValue().toString());
    }
    return out;
  }

  /** {@code name=value} pairs, for the operator: strings in quotes, as typed. */
  public static String show(Map<String, String> flags) {
    StringBuilder b = new StringBuilder();
    new TreeMap<>(flags).forEach((k, v) -> b.append(b.length() == 0 ? "" : " ").append(k).append('=').append(v));
    return b.toString();
  }

  private static String quote(String s) {
    try {
      return JSON.writeValueAsString(s);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
