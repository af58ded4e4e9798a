package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** People with certificates of their own, through the CLI as each of them runs it. */
class PeopleIT {
  @TempDir Path dir;

  @Test
  void eachPersonHasTheirOwnCertificateAndRoleAndTheAuditNamesThem() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      fleet.startAgentWith("a", "rack=r1");
      fleet.awaitConnected(1);

      // Vera makes her key on her machine; the owner signs her request and hands back a certificate.
      Path vera = dir.resolve("vera");
      Fleet.Cli request = fleet.rackroll("admin", "request", "vera", "--out", vera.toString());
      assertThat(request.exit()).as(request.toString()).isZero();
      assertThat(Files.getPosixFilePermissions(vera.resolve("admin.key"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
      Fleet.Cli add = fleet.rackroll("admin", "add", "vera", "--role", "viewer", "--csr", vera.resolve("admin.csr").toString());
      assertThat(add.exit()).as(add.toString()).isZero();
      assertThat(add.out()).startsWith("added admin vera (viewer), certificate valid until ");
      assertThat(vera.resolve("admin.crt")).exists();
      assertThat(vera.resolve("ca.crt")).exists();

      // A viewer reads, and is refused a deploy with the role it needs.
      assertThat(fleet.rackroll("agents", "--credentials", vera.toString()).exit()).isZero();
      fleet.web("1").push();
      Fleet.Cli refused = fleet.rackroll("deploy", "web@1", "--selector", "rack=r1", "--credentials", vera.toString());
      assertThat(refused.exit()).isEqualTo(1);
      assertThat(refused.err().strip()).isEqualTo("rackroll: refused by the controller: admin vera (viewer) may not call Deploy: needs the deployer"
          + " role or above");

      // A deployer deploys under its own name, but may not go past a change window.
      Path dave = dir.resolve("dave");
      assertThat(fleet.rackroll("admin", "request", "dave", "--out", dave.toString()).exit()).isZero();
      assertThat(fleet.rackroll("admin", "add", "dave", "--role", "deployer", "--csr", dave.resolve("admin.csr").toString())
          .exit()).isZero();
      Fleet.Cli forced = fleet.rackroll("deploy", "web@1", "--selector", "rack=r1", "--override-window", "--reason", "x",
          "--credentials", dave.toString());
      assertThat(forced.exit()).isEqualTo(1);
      assertThat(forced.err()).contains("admin dave (deployer) may not go ahead outside change windows");
      Fleet.Cli deploy = fleet.rackroll("deploy", "web@1", "--selector", "rack=r1", "--health-gate", "0s", "--watch",
          "--credentials", dave.toString());
      assertThat(deploy.exit()).as(deploy.toString()).isZero();
      assertThat(fleet.rackroll("audit", "--who", "dave").out()).contains("dave", "deploy").doesNotContain("vera");
      JsonNode veraRefused = new ObjectMapper().readTree(fleet.rackroll("audit", "--who", "vera", "-o", "json").out()
          .lines().findFirst().orElseThrow());
      assertThat(veraRefused.path("action").asText()).isEqualTo("refused");
      assertThat(veraRefused.path("target").asText()).isEqualTo("Deploy");

      // The owner lists and revokes; dave is refused from the next call on.
      assertThat(fleet.rackroll("admin", "list").out()).containsPattern("admin +owner +1 +at init +active")
          .containsPattern("dave +deployer +1 .* by admin +active").containsPattern("vera +viewer");
      Fleet.Cli revoke = fleet.rackroll("admin", "revoke", "dave", "--reason", "left the team");
      assertThat(revoke.exit()).as(revoke.toString()).isZero();
      Fleet.Cli after = fleet.rackroll("agents", "--credentials", dave.toString());
      assertThat(after.exit()).isEqualTo(1);
      assertThat(after.err()).contains("of admin dave was revoked; ask an owner for a new one");
      assertThat(fleet.rackroll("admin", "list").out()).containsPattern("dave +deployer +0 .* revoked .* by admin");
    }
  }
}
