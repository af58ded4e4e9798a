package io.rackroll.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

class NamesTest {
  @Test
  void refusalsAreOneShortPrintableLine() {
    assertThatThrownBy(() -> Names.APP.check("../../../x"))
        .hasMessage("app name: ../../../x (expected: 1-63 of a-z, 0-9, '.', '_', '-', starting with a letter or digit)");
    assertThatThrownBy(() -> Names.APP.check("a".repeat(10_000)))
        .hasMessageStartingWith("app name: " + "a".repeat(64) + "… (10000 characters) (expected:");
    assertThatThrownBy(() -> Names.FLAG.check("x\ny")).hasMessageStartingWith("flag name: x\\x0ay (expected:");
    assertThat(Names.RELEASE.valid("1.4.2~0a1b2c")).isTrue();
    assertThat(Names.VERSION.valid("1.4.2~0a1b2c")).isFalse();
  }

  /** Whatever the input, a name that passes is one path component: no separator, and never '.' or '..'. */
  @Test
  void everyValidNameIsOnePathComponent() {
    Random random = new Random(15);
    String alphabet = "a.-_/\\~+Z9 \u00e9\n";
    for (int i = 0; i < 20_000; i++) {
      StringBuilder b = new StringBuilder();
      for (int n = random.nextInt(8); n > 0; n--) {
        b.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String value = b.toString();
      for (Names kind : Names.values()) {
        if (kind.valid(value) && kind != Names.LABEL_KEY && kind != Names.LABEL_VALUE) {
          assertThat(value).as(kind + " " + value).doesNotContain("/").doesNotContain("\\").isNotIn(".", "..")
              .isNotEmpty();
        }
      }
    }
  }
}
