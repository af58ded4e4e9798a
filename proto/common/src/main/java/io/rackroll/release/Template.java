package io.rackroll.release;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A release's configuration template: {@code ${name}} is replaced by the environment's variable
 * {@code name}; {@code $${} writes a literal {@code ${}. Nothing else is special, so shell
 * {@code $VAR} and most other syntaxes pass through untouched. Errors name the template, the line
 * and the variable, never a value.
 */
public final class Template {
  /** A variable name as environments declare it: letters, digits, '_', '.', '-'. */
  public static final Pattern NAME = io.rackroll.wire.Names.VARIABLE.pattern();
  private static final Pattern TOKEN = Pattern.compile("\\$\\$\\{|\\$\\{([^}\\n]*)}|\\$\\{");

  private Template() {}

  /** A template that cannot be rendered with the variables given. */
  public static final class TemplateException extends Exception {
    public TemplateException(String message) {
      super(message);
    }
  }

  /** Renders {@code text} (the file {@code name} of the release) with {@code variables}. */
  public static String render(String name, String text, Map<String, String> variables, String environment)
      throws TemplateException {
    StringBuilder out = new StringBuilder(text.length());
    Matcher m = TOKEN.matcher(text);
    int from = 0;
    while (m.find()) {
      out.append(text, from, m.start());
      from = m.end();
      String token = m.group();
      if (token.equals("$${")) {
        out.append("${");
        continue;
      }
      int line = 1 + (int) text.substring(0, m.start()).chars().filter(c -> c == '\n').count();
      String var = m.group(1);
      if (var == null) {
        throw new TemplateException("template " + name + " line " + line + ": \"${\" is not closed on its line"
            + " (write $${ for a literal ${)");
      }
      if (!NAME.matcher(var.strip()).matches()) {
        throw new TemplateException("template " + name + " line " + line + ": \"${" + var + "}\" is not a variable name"
            + " (letters, digits, '_', '.', '-'; write $${ for a literal ${)");
      }
      String value = variables.get(var.strip());
      if (value == null) {
        throw new TemplateException("template " + name + " line " + line + ": no variable \"" + var.strip() + "\" in "
            + (environment.isEmpty() ? "this host's configuration (it belongs to no environment)"
                : "environment " + environment) + "; set it in the environments file (variables) or as a secret");
      }
      out.append(value);
    }
    out.append(text, from, text.length());
    return out.toString();
  }

  /** The environment variable a hook sees for variable {@code name}: RACKROLL_VAR_DB_URL for db.url. */
  public static String environmentName(String name) {
    return "RACKROLL_VAR_" + name.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
  }
}
