package io.rackroll.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PeerIdentityTest {
  @Test
  void subjectNamesRoleAndName() {
    assertThat(PeerIdentity.agent("ag-abc").subject()).isEqualTo("CN=ag-abc,OU=agent,O=Rackroll");
    assertThat(PeerIdentity.admin("admin").toString()).isEqualTo("admin admin");
  }

  @Test
  void refusesNamesThatCouldSmuggleSyntax() {
    for (String bad : new String[] {"", "UPPER", "a,OU=admin", "-lead", "a b", "x".repeat(64)}) {
      assertThatThrownBy(() -> PeerIdentity.agent(bad)).hasMessageContaining("expected: 1-63 of a-z");
    }
  }
}
