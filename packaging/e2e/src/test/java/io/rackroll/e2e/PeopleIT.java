package io.rackroll.e2e;

import static io.rackroll.e2e.Fleet.ok;
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
      JsonNode veraRefused = new ObjectMapper().readTree(fleet.rackroll("audit", "--who", "vera", "-o", "json").out())
          .get(0);
      assertThat(veraRefused.path("action").asText()).isEqualTo("refused");
      assertThat(veraRefused.path("target").asText()).isEqualTo("Deploy");

      // The owner lists and revokes; dave is refused from the next call on.
      assertThat(fleet.rackroll("admin", "list").out()).containsPattern("admin +owner +all +1 +at init +active")
          .containsPattern("dave +deployer +all +1 .* by admin +active").containsPattern("vera +viewer");
      Fleet.Cli revoke = fleet.rackroll("admin", "revoke", "dave", "--reason", "left the team");
      assertThat(revoke.exit()).as(revoke.toString()).isZero();
      Fleet.Cli after = fleet.rackroll("agents", "--credentials", dave.toString());
      assertThat(after.exit()).isEqualTo(1);
      assertThat(after.err()).contains("of admin dave was revoked; ask an owner for a new one");
      assertThat(fleet.rackroll("admin", "list").out()).containsPattern("dave +deployer +all +0 .* revoked .* by admin");
    }
  }

  @Test
  void aDeployerLimitedToStagingIsRefusedProductionAndRenewsItsOwnCertificate() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      fleet.startAgentWith("s1", "env=staging");
      fleet.startAgentWith("p1", "env=prod");
      fleet.awaitConnected(2);
      Path file = dir.resolve("environments.yaml");
      Files.writeString(file, """
          lifecycle: [staging, production]
          environments:
            staging:
              selector: env=staging
              strategy: {healthGate: 0s}
            production:
              selector: env=prod
              strategy: {healthGate: 0s}
          """);
      ok(fleet.rackroll("env", "apply", "-f", file.toString()));
      fleet.web("1").push();

      Path sam = dir.resolve("sam");
      ok(fleet.rackroll("admin", "request", "sam", "--out", sam.toString()));
      Fleet.Cli add = ok(fleet.rackroll("admin", "add", "sam", "--role", "deployer", "--env", "staging", "--csr",
          sam.resolve("admin.csr").toString()));
      assertThat(add.out()).startsWith("added admin sam (deployer in staging), certificate valid until ");
      assertThat(fleet.rackroll("admin", "list").out()).containsPattern("sam +deployer +staging +1 ");

      ok(fleet.rackroll("promote", "web@1", "--to", "staging", "--watch", "--credentials", sam.toString()));
      Fleet.Cli production = fleet.rackroll("promote", "web@1", "--to", "production", "--credentials", sam.toString());
      assertThat(production.exit()).isEqualTo(1);
      assertThat(production.err().strip()).isEqualTo("rackroll: refused by the controller: web@1 would reach 1 host(s)"
          + " of production, but you may change only staging; narrow the selector to those environments, or ask an"
          + " operator");
      Fleet.Cli everywhere = fleet.rackroll("deploy", "web@1", "--selector", "", "--credentials", sam.toString());
      assertThat(everywhere.err()).contains("would reach 1 host(s) of production");
      assertThat(fleet.rackroll("audit", "--who", "sam").out()).contains("refused");

      // Sam renews with the key sam holds; the old certificate file is replaced, the new one works.
      String before = Files.readString(sam.resolve("admin.crt"));
      Fleet.Cli renew = ok(fleet.rackroll("admin", "renew", "--credentials", sam.toString()));
      assertThat(renew.out()).startsWith("renewed: ").contains("admin.crt is valid until ");
      assertThat(Files.readString(sam.resolve("admin.crt"))).isNotEqualTo(before);
      assertThat(fleet.rackroll("admin", "list").out()).containsPattern("sam +deployer +staging +2 ");
      ok(fleet.rackroll("agents", "--credentials", sam.toString()));
    }
  }
}
