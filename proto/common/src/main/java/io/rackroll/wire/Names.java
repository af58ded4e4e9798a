package io.rackroll.wire;

import java.util.regex.Pattern;

/**
 * The one grammar of every name that crosses the wire: app names, versions, label keys and values,
 * environments, flags, variables and agent ids. The controller checks each request's names against
 * it before anything else reads them, and the agent checks again before it builds a path from one.
 * None may hold '/', and none may be '.' or '..', so a name is always one path component.
 */
public enum Names {
  APP("app name", "[a-z0-9][a-z0-9._-]{0,62}", "1-63 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"),
  VERSION("version", "[A-Za-z0-9][A-Za-z0-9._+-]{0,63}",
      "1-64 of letters, digits, '.', '_', '+', '-', starting with a letter or digit, e.g. 1.4.2"),
  /** A release directory on a host: a version, or a reconfigured one ({@code <version>~<digest prefix>}). */
  RELEASE("release", "[A-Za-z0-9][A-Za-z0-9._+-]{0,63}(~[0-9a-f]{1,64})?",
      "a version, optionally followed by ~ and a configuration digest"),
  AGENT_ID("agent id", "[a-z0-9][a-z0-9._-]{0,62}", "1-63 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"),
  LABEL_KEY("label key", "[A-Za-z0-9][A-Za-z0-9._/-]{0,62}",
      "1-63 of letters, digits, '.', '_', '/', '-', starting with a letter or digit"),
  LABEL_VALUE("label value", "[A-Za-z0-9._/-]{1,255}", "1-255 of letters, digits, '.', '_', '/', '-'"),
  ENVIRONMENT("environment", "[a-z0-9][a-z0-9-]{0,30}", "1-31 of a-z, 0-9, '-', starting with a letter or digit"),
  FLAG("flag name", "[A-Za-z][A-Za-z0-9_.-]{0,127}",
      "1-128 of letters, digits, '_', '.', '-', starting with a letter"),
  RELEASE_KEY("release key name", "[A-Za-z0-9][A-Za-z0-9._-]{0,62}",
      "1-63 of letters, digits, '.', '_', '-', starting with a letter or digit, e.g. release-2026"),
  VARIABLE("variable name", "[A-Za-z_][A-Za-z0-9_.-]{0,127}",
      "1-128 of letters, digits, '_', '.', '-', starting with a letter or '_'");

  /** Longest part of a refused value repeated in a message: errors stay one readable line. */
  private static final int SHOWN = 64;

  private final String what;
  private final Pattern pattern;
  private final String expected;

  Names(String what, String regex, String expected) {
    this.what = what;
    this.pattern = Pattern.compile(regex);
    this.expected = expected;
  }

  public Pattern pattern() {
    return pattern;
  }

  public String expected() {
    return expected;
  }

  public boolean valid(String value) {
    return value != null && pattern.matcher(value).matches();
  }

  /**
   * Returns {@code value} if it is a valid name of this kind.
   *
   * @throws IllegalArgumentException {@code "<what>: <value> (expected: ...)"}, the value shortened
   *     and its control characters escaped
   */
  public String check(String value) {
    if (!valid(value)) {
      throw new IllegalArgumentException(refusal(value));
    }
    return value;
  }

  /** Why {@code value} is not a name of this kind, in one line: {@code "<what>: <value> (expected: ...)"}. */
  public String refusal(String value) {
    return what + ": " + shown(value) + " (expected: " + expected + ")";
  }

  /** {@code text} with its control characters (line breaks among them) escaped: it stays on one line. */
  public static String printable(String text) {
    StringBuilder b = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      b.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
    }
    return b.toString();
  }

  /** {@code value} as it may be repeated in a one-line message: short, and printable. */
  public static String shown(String value) {
    if (value == null) {
      return "(none)";
    }
    if (value.isEmpty()) {
      return "\"\"";
    }
    StringBuilder b = new StringBuilder(printable(value.substring(0, Math.min(value.length(), SHOWN))));
    if (value.length() > SHOWN) {
      b.append("… (").append(value.length()).append(" characters)");
    }
    return b.toString();
  }
}
