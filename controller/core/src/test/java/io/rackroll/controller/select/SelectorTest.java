package io.rackroll.controller.select;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SelectorTest {
  private static final Map<String, String> WEB_R1 = Map.of("role", "web", "rack", "r1", "env", "prod");
  private static final Map<String, String> DB_R2 = Map.of("role", "db", "rack", "r2");

  @Test
  void emptySelectsAll() {
    assertThat(Selector.parse("").matches(WEB_R1)).isTrue();
    assertThat(Selector.parse("  ").matches(Map.of())).isTrue();
  }

  @Test
  void equalityAndInequality() {
    assertThat(Selector.parse("role=web").matches(WEB_R1)).isTrue();
    assertThat(Selector.parse("role==web").matches(DB_R2)).isFalse();
    assertThat(Selector.parse("env!=staging").matches(WEB_R1)).isTrue();
    assertThat(Selector.parse("env!=staging").matches(DB_R2)).as("missing key satisfies !=").isTrue();
    assertThat(Selector.parse("env!=prod").matches(WEB_R1)).isFalse();
  }

  @Test
  void setMembership() {
    Selector in = Selector.parse("rack in (r1, r3)");
    assertThat(in.matches(WEB_R1)).isTrue();
    assertThat(in.matches(DB_R2)).isFalse();
    Selector notin = Selector.parse("rack notin (r1,r3)");
    assertThat(notin.matches(WEB_R1)).isFalse();
    assertThat(notin.matches(DB_R2)).isTrue();
    assertThat(notin.matches(Map.of())).isTrue();
  }

  @Test
  void existence() {
    assertThat(Selector.parse("env").matches(WEB_R1)).isTrue();
    assertThat(Selector.parse("env").matches(DB_R2)).isFalse();
    assertThat(Selector.parse("!env").matches(DB_R2)).isTrue();
    assertThat(Selector.parse("! env").matches(WEB_R1)).isFalse();
  }

  @Test
  void commaMeansAnd() {
    Selector s = Selector.parse("role=web,rack in (r1,r2),env!=staging");
    assertThat(s.matches(WEB_R1)).isTrue();
    assertThat(s.matches(DB_R2)).isFalse();
    assertThat(s.toString()).isEqualTo("role=web,rack in (r1,r2),env!=staging");
  }

  @Test
  void errorsPointAtTheOffendingCharacter() {
    assertError("role=web,)", 10, "expected a label key, found ')'");
    assertError("role=", 6, "expected a value, found end of selector");
    assertError("rack in r1", 9, "expected '(' to open the value list, found 'r'");
    assertError("rack in (r1,r2", 15, "expected ',' or ')' to close the value list, found end of selector");
    assertError("rack is r1", 6, "expected '=', '!=', 'in', 'notin', ',' or the end of the selector, found 'i'");
    assertError("role=web;rack=r1", 9, "expected ',' or the end of the selector, found ';'");
    // Found by OperatorInputFuzzTest: a trailing comma once threw StringIndexOutOfBoundsException.
    assertError("role=webr,", 11, "expected a label key, found end of selector");
  }

  private static void assertError(String selector, int column, String problem) {
    assertThatThrownBy(() -> Selector.parse(selector))
        .isInstanceOfSatisfying(SelectorException.class, e -> assertThat(e.column()).isEqualTo(column))
        .hasMessage("selector \"" + selector + "\" at column " + column + ": " + problem);
  }
}
