package io.rackroll.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TemplateTest {
  private static final Map<String, String> VARS = Map.of("greeting", "hello", "db.url", "postgres://db:5432/web",
      "db.password", "s3cret");

  @Test
  void replacesVariablesAndLeavesEverythingElse() throws Exception {
    String text = "# web ${greeting}\nurl = ${db.url}\npassword=${ db.password }\nshell: $HOME ${}x\n";
    assertThatThrownBy(() -> Template.render("config/app.conf", text, VARS, "staging"))
        .hasMessage("template config/app.conf line 4: \"${}\" is not a variable name (letters, digits, '_', '.', '-';"
            + " write $${ for a literal ${)");
    assertThat(Template.render("config/app.conf", text.replace("${}x", "x"), VARS, "staging"))
        .isEqualTo("# web hello\nurl = postgres://db:5432/web\npassword=s3cret\nshell: $HOME x\n");
  }

  @Test
  void dollarDollarBraceIsALiteral() throws Exception {
    assertThat(Template.render("run.sh", "echo \"$${HOME}\" ${greeting} $$${greeting}", VARS, "staging"))
        .isEqualTo("echo \"${HOME}\" hello $${greeting}"); // "$" then the literal "${"

  }

  @Test
  void aMissingVariableNamesTemplateLineAndVariableButNoValue() {
    assertThatThrownBy(() -> Template.render("config/app.conf", "a=1\nb=${greeting}\nc=${db.user}\n", VARS, "production"))
        .isInstanceOf(Template.TemplateException.class)
        .hasMessage("template config/app.conf line 3: no variable \"db.user\" in environment production; set it in the"
            + " environments file (variables) or as a secret");
    assertThatThrownBy(() -> Template.render("x", "${db.user", VARS, ""))
        .hasMessage("template x line 1: \"${\" is not closed on its line (write $${ for a literal ${)");
  }

  @Test
  void hooksSeeVariablesUnderAShellSafeName() {
    assertThat(Template.environmentName("db.url")).isEqualTo("RACKROLL_VAR_DB_URL");
    assertThat(Template.environmentName("feature-x")).isEqualTo("RACKROLL_VAR_FEATURE_X");
  }
}
