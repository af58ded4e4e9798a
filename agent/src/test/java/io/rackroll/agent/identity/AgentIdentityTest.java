package io.rackroll.agent.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentIdentityTest {
  @TempDir Path dir;

  @Test
  void theIdIsTheOneTheControllerAssignedAndIsKept() throws Exception {
    AgentIdentity identity = new AgentIdentity(dir.resolve("state"), dir.resolve("pki"));
    assertThat(identity.id()).as("no id of its own before enrolling").isEmpty();
    identity.saveEnrollment("ag-assigned12", "cert", "ca", java.util.Map.of("rack", "r1"));
    assertThat(new AgentIdentity(dir.resolve("state"), dir.resolve("pki")).id()).contains("ag-assigned12");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> identity.saveEnrollment("../etc", "c", "ca", java.util.Map.of()))
        .hasMessageContaining("name: ../etc");
  }

  @Test
  void theControllerEnrolledWithIsKeptBesideTheIdAndLabels() throws Exception {
    AgentIdentity identity = new AgentIdentity(dir.resolve("state"), dir.resolve("pki"));
    assertThat(identity.controller()).isEmpty();
    identity.saveEnrollment("ag-abcdefabcdef", "cert", "ca", java.util.Map.of("rack", "r1"));
    identity.saveController("ctl.example.net:7443");

    AgentIdentity again = new AgentIdentity(dir.resolve("state"), dir.resolve("pki"));
    assertThat(again.controller()).contains("ctl.example.net:7443");
    assertThat(again.id()).contains("ag-abcdefabcdef");
    assertThat(java.nio.file.Files.readString(dir.resolve("state/identity.properties"))).contains("label.rack=r1");
  }

  @Test
  void notEnrolledUntilTheCertificateIsWritten() throws Exception {
    AgentIdentity identity = new AgentIdentity(dir.resolve("state"), dir.resolve("pki"));
    assertThat(identity.enrolled()).isFalse();
    assertThat(identity.credentials()).isEmpty();
    identity.saveKey(io.rackroll.trust.Keys.newKeyPair().getPrivate());
    assertThat(identity.enrolled()).as("a key alone (crash mid-enrollment) is not an enrollment").isFalse();
  }
}
