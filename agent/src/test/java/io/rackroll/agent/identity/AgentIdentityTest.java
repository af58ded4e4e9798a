package io.rackroll.agent.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentIdentityTest {
  @TempDir Path dir;

  @Test
  void idIsGeneratedOnceAndKept() throws Exception {
    String id = new AgentIdentity(dir.resolve("state"), dir.resolve("pki")).id();
    assertThat(id).matches("ag-[a-z2-9]{12}");
    assertThat(new AgentIdentity(dir.resolve("state"), dir.resolve("pki")).id()).isEqualTo(id);
  }

  @Test
  void differentHostsGetDifferentIds() throws Exception {
    assertThat(new AgentIdentity(dir.resolve("a"), dir.resolve("pa")).id())
        .isNotEqualTo(new AgentIdentity(dir.resolve("b"), dir.resolve("pb")).id());
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
