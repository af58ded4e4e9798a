package io.rackroll.release;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
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
  private static final JsonFactory JSON = new JsonFactory();

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
    StringWriter out = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.useDefaultPrettyPrinter();
      g.writeStartObject();
      for (Map.Entry<String, String> e : new TreeMap<>(flags).entrySet()) {
        g.writeFieldName(e.getKey());
        try (JsonParser value = JSON.createParser(e.getValue())) {
          JsonToken t = value.nextToken();
          if (t == null || !t.isScalarValue()) {
            throw new IllegalArgumentException("flag value is not JSON: " + e.getKey() + "=" + e.getValue()
                + " (expected: a boolean, number or string)");
          }
          g.copyCurrentEvent(value);
          if (value.nextToken() != null) {
            throw new IllegalArgumentException("flag value is not JSON: " + e.getKey() + "=" + e.getValue()
                + " (expected: one boolean, number or string)");
          }
        }
      }
      g.writeEndObject();
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("flag value is not JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a string writer does not fail
    }
    return out + "\n";
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
    Map<String, String> out = new TreeMap<>();
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("flags: expected a JSON object");
      }
      for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
        if (t == null) {
          throw new IllegalArgumentException("flags are not JSON: the object is not closed");
        }
        String key = p.currentName();
        JsonToken v = p.nextToken();
        if (v == null || !v.isScalarValue() || (v == JsonToken.VALUE_NULL && !change)) {
          throw new IllegalArgumentException("flag " + key + ": expected a boolean, number or string");
        }
        out.put(name(key), text(p));
      }
      if (p.nextToken() != null) {
        throw new IllegalArgumentException("flags are not JSON: more after the object");
      }
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("flags are not JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a string does not fail to read
    }
    return out;
  }

  /** The scalar {@code p} stands on as compact JSON, numbers as Jackson's tree model wrote them. */
  private static String text(JsonParser p) throws IOException {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.copyCurrentEvent(p);
    }
    return out.toString();
  }

  /** {@code name=value} pairs, for the operator: strings in quotes, as typed. */
  public static String show(Map<String, String> flags) {
    StringBuilder b = new StringBuilder();
    new TreeMap<>(flags).forEach((k, v) -> b.append(b.length() == 0 ? "" : " ").append(k).append('=').append(v));
    return b.toString();
  }

  private static String quote(String s) {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeString(s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }
}
