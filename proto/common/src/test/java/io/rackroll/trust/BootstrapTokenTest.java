package io.rackroll.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BootstrapTokenTest {
  private static final String SECRET = "abcdefghijklmnopqrstuvwxyz012345";
  private static final String PIN = "A".repeat(43);

  @Test
  void roundTripsThroughItsText() {
    BootstrapToken t = new BootstrapToken("ab12cd34", SECRET, PIN);
    assertThat(BootstrapToken.parse(t.text())).isEqualTo(t);
    assertThat(BootstrapToken.parse("  " + t.text() + "\n")).isEqualTo(t);
  }

  @Test
  void neverPrintsItsSecret() {
    assertThat(new BootstrapToken("ab12cd34", SECRET, PIN).toString()).isEqualTo("token ab12cd34").doesNotContain(SECRET);
  }

  @Test
  void refusesTextThatIsNotAToken() {
    assertThatThrownBy(() -> BootstrapToken.parse("hello"))
        .hasMessageContaining("not a Rackroll token").hasMessageContaining("rackroll token create");
    assertThatThrownBy(() -> BootstrapToken.parse("rr2.ab12cd34." + SECRET + "." + PIN))
        .hasMessageContaining("not a Rackroll token");
  }

  @Test
  void namesTheMalformedPartWithoutEchoingIt() {
    assertThatThrownBy(() -> BootstrapToken.parse("rr1.AB12CD34." + SECRET + "." + PIN))
        .hasMessageStartingWith("token id is malformed");
    assertThatThrownBy(() -> BootstrapToken.parse("rr1.ab12cd34.short." + PIN))
        .hasMessageStartingWith("token secret is malformed").hasMessageNotContaining("short");
    assertThatThrownBy(() -> BootstrapToken.parse("rr1.ab12cd34." + SECRET + ".x"))
        .hasMessageStartingWith("CA fingerprint is malformed");
  }
}
