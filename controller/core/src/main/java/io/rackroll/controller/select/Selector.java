package io.rackroll.controller.select;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A parsed selector: requirements over an agent's labels (and facts under {@code facts.*}),
 * all of which must hold. Grammar, comma meaning "and":
 *
 * <pre>
 *   selector    := "" | requirement ("," requirement)*
 *   requirement := key | "!" key | key ("=" | "==" | "!=") value
 *                | key ("in" | "notin") "(" value ("," value)* ")"
 *   key, value  := [A-Za-z0-9._/-]+
 * </pre>
 *
 * {@code k!=v} and {@code k notin (..)} also match agents without the key, as operators expect
 * ({@code env!=staging} includes hosts with no env label).
 */
public final class Selector {
  private final String text;
  private final List<Requirement> requirements;

  private Selector(String text, List<Requirement> requirements) {
    this.text = text;
    this.requirements = List.copyOf(requirements);
  }

  public static Selector all() {
    return new Selector("", List.of());
  }

  /** Parses {@code text}; a {@link SelectorException} points at the offending character. */
  public static Selector parse(String text) {
    return new Parser(text == null ? "" : text).parse();
  }

  public boolean matches(Map<String, String> attributes) {
    for (Requirement r : requirements) {
      if (!r.matches(attributes)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return requirements.stream().map(Requirement::toString).collect(Collectors.joining(","));
  }

  public String text() {
    return text;
  }

  private enum Op { EXISTS, NOT_EXISTS, EQUALS, NOT_EQUALS, IN, NOT_IN }

  private record Requirement(String key, Op op, Set<String> values) {
    boolean matches(Map<String, String> attributes) {
      String actual = attributes.get(key);
      return switch (op) {
        case EXISTS -> actual != null;
        case NOT_EXISTS -> actual == null;
        case EQUALS, IN -> actual != null && values.contains(actual);
        case NOT_EQUALS, NOT_IN -> actual == null || !values.contains(actual);
      };
    }

    @Override
    public String toString() {
      return switch (op) {
        case EXISTS -> key;
        case NOT_EXISTS -> "!" + key;
        case EQUALS -> key + "=" + values.iterator().next();
        case NOT_EQUALS -> key + "!=" + values.iterator().next();
        case IN -> key + " in (" + String.join(",", values) + ")";
        case NOT_IN -> key + " notin (" + String.join(",", values) + ")";
      };
    }
  }

  /** Recursive descent over the text; {@code pos} is the next unread character. */
  private static final class Parser {
    private final String text;
    private int pos;

    Parser(String text) {
      this.text = text;
    }

    Selector parse() {
      List<Requirement> out = new ArrayList<>();
      skipSpaces();
      if (atEnd()) {
        return new Selector(text, out);
      }
      out.add(requirement());
      skipSpaces();
      while (!atEnd()) {
        expect(',', "',' or the end of the selector");
        out.add(requirement());
        skipSpaces();
      }
      return new Selector(text, out);
    }

    private Requirement requirement() {
      skipSpaces();
      if (!atEnd() && peek() == '!') {
        pos++;
        skipSpaces();
        return new Requirement(word("a label key"), Op.NOT_EXISTS, Set.of());
      }
      String key = word("a label key");
      skipSpaces();
      if (atEnd() || peek() == ',') {
        return new Requirement(key, Op.EXISTS, Set.of());
      }
      if (text.startsWith("!=", pos)) {
        pos += 2;
        return new Requirement(key, Op.NOT_EQUALS, Set.of(valueAfterSpaces()));
      }
      if (text.startsWith("==", pos)) {
        pos += 2;
        return new Requirement(key, Op.EQUALS, Set.of(valueAfterSpaces()));
      }
      if (peek() == '=') {
        pos++;
        return new Requirement(key, Op.EQUALS, Set.of(valueAfterSpaces()));
      }
      int opStart = pos;
      String op = isWordChar(peek()) ? word("an operator") : "";
      if (op.equals("in") || op.equals("notin")) {
        return new Requirement(key, op.equals("in") ? Op.IN : Op.NOT_IN, valueSet());
      }
      pos = opStart;
      throw error("'=', '!=', 'in', 'notin', ',' or the end of the selector");
    }

    private Set<String> valueSet() {
      skipSpaces();
      expect('(', "'(' to open the value list");
      Set<String> values = new LinkedHashSet<>();
      values.add(valueAfterSpaces());
      skipSpaces();
      while (!atEnd() && peek() == ',') {
        pos++;
        values.add(valueAfterSpaces());
        skipSpaces();
      }
      expect(')', "',' or ')' to close the value list");
      return values;
    }

    private String valueAfterSpaces() {
      skipSpaces();
      return word("a value");
    }

    private String word(String expected) {
      int start = pos;
      while (!atEnd() && isWordChar(peek())) {
        pos++;
      }
      if (start == pos) {
        throw error(expected);
      }
      return text.substring(start, pos);
    }

    private void expect(char c, String expected) {
      if (atEnd() || peek() != c) {
        throw error(expected);
      }
      pos++;
    }

    private SelectorException error(String expected) {
      String found = atEnd() ? "end of selector" : "'" + peek() + "'";
      return new SelectorException(text, pos, "expected " + expected + ", found " + found);
    }

    private void skipSpaces() {
      while (!atEnd() && peek() == ' ') {
        pos++;
      }
    }

    private boolean atEnd() {
      return pos >= text.length();
    }

    private char peek() {
      return text.charAt(pos);
    }

    private static boolean isWordChar(char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '.' || c == '_' || c == '-' || c == '/';
    }
  }
}
