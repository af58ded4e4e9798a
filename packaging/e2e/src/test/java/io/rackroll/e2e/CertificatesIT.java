package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificates over a host's life, with agent processes and a controller whose certificates last
 * 45 seconds (room for a controller restart on a busy machine before a renewed one runs out):
 * renewal without an operator, revocation, and a host that was away too long.
 */
class CertificatesIT {
  private static final Duration LIFETIME = Duration.ofSeconds(45);

  @TempDir Path dir;

  @Test
  void aRevocationOutlivesAControllerKilledTheMomentAfter() throws Exception {
    try (Fleet fleet = Fleet.start(dir, "agentCertificateLifetime: 10m")) {
      Fleet.Agent agent = fleet.startAgentWith("stolen", "rack=r1");
      fleet.awaitConnected(1);
      Fleet.Cli revoke = fleet.rackroll("agents", "revoke", agent.id(), "--reason", "host stolen");
      assertThat(revoke.exit()).as(revoke.toString()).isZero();
      fleet.killController(); // SIGKILL at once: the embedded database may not have stored the revocation yet
      assertThat(agent.awaitExit()).isEqualTo(78);
      fleet.startController();

      // The journal kept it: the certificate is refused, and the store says revoked again.
      agent.restart();
      assertThat(agent.awaitExit()).isEqualTo(78);
      assertThat(agent.log().split("certificate revoked", -1)).as("refused before and after the kill").hasSize(3);
      assertThat(fleet.stateOf(agent.id())).isEqualTo("revoked");
    }
  }

  @Test
  void agentsRenewByThemselvesRevokedAndExpiredAgentsAreToldToReEnroll() throws Exception {
    try (Fleet fleet = Fleet.start(dir, "agentCertificateLifetime: 45s")) {
      Fleet.Agent renewing = fleet.startAgentWith("renewing", "rack=r1");
      Fleet.Agent revoked = fleet.startAgentWith("revoked", "rack=r1");
      Fleet.Agent away = fleet.startAgentWith("away", "rack=r2");
      fleet.awaitConnected(3);

      // A host switched off for longer than its certificate lives.
      away.kill();
      Instant awayExpiry = away.certificateNotAfter();

      // Renewal: at two thirds of the lifetime, over the open stream, no operator step.
      String firstSerial = fleet.agents().get(renewing.id()).get("certificateSerial").asText();
      Instant firstExpiry = renewing.certificateNotAfter();
      await("renewing agent has a new certificate").atMost(LIFETIME.multipliedBy(2))
          .failFast("agent exited", () -> !renewing.process.isAlive())
          .until(() -> !fleet.agents().get(renewing.id()).get("certificateSerial").asText().equals(firstSerial));
      assertThat(renewing.certificateNotAfter()).isAfter(firstExpiry);
      assertThat(renewing.log()).contains("renewed this agent's certificate")
          .doesNotContain("stream to controller");
      assertThat(fleet.stateOf(renewing.id())).isEqualTo("connected");

      // Revocation: the stream ends at once and the agent stops, saying what to do.
      Fleet.Cli revoke = fleet.rackroll("agents", "revoke", revoked.id(), "--reason", "decommissioned");
      assertThat(revoke.exit()).as(revoke.toString()).isZero();
      assertThat(revoke.out()).contains("revoked agent " + revoked.id()).contains("its stream was closed");
      assertThat(revoked.awaitExit()).isEqualTo(78);
      assertThat(revoked.log()).contains("certificate revoked").contains("new token");
      assertThat(fleet.stateOf(revoked.id())).isEqualTo("revoked");

      // Once the first certificate has expired, a restarted controller must see the renewed one.
      // Stopped as systemd stops it (a SIGKILL right after a revocation is the test above).
      await("first certificate expired").atMost(LIFETIME).until(() -> Instant.now().isAfter(firstExpiry));
      fleet.stopController();
      fleet.startController("--log-format", "json");
      await("renewed agent reconnects").atMost(Duration.ofSeconds(30))
          .until(() -> fleet.stateOf(renewing.id()).equals("connected"));
      // Logs as JSON lines, each line about a host carrying its agent id as a field.
      assertThat(fleet.controllerLog()).containsPattern("\\{\"time\":\"[^\"]+\",\"level\":\"INFO\",\"logger\":"
          + "\"AgentRegistry\",\"thread\":\"[^\"]+\",\"message\":\"agent " + renewing.id() + " connected [^\"]*\",\"agent\":\""
          + renewing.id() + "\"}");

      // Revocation survives the restart.
      revoked.restart();
      assertThat(revoked.awaitExit()).isEqualTo(78);
      assertThat(fleet.stateOf(revoked.id())).isEqualTo("revoked");

      // Only a token the admin made for this agent brings the revoked host back as itself.
      Fleet.Cli replacing = fleet.rackroll("token", "create", "--replaces", revoked.id());
      assertThat(replacing.exit()).as(replacing.toString()).isZero();
      Fleet.Cli enroll = fleet.rackrollAgent("enroll", "--config", revoked.home.resolve("agent.yaml").toString(),
          "--token", replacing.out().trim());
      assertThat(enroll.exit()).as(enroll.toString()).isZero();
      assertThat(enroll.out()).contains("Enrolled agent " + revoked.id());
      revoked.restart("--log-format", "json");
      await("re-enrolled agent connected").atMost(Duration.ofSeconds(60))
          .failFast("agent exited", () -> !revoked.process.isAlive())
          .until(() -> fleet.stateOf(revoked.id()).equals("connected"));
      assertThat(revoked.log()).containsPattern("\"message\":\"connected to controller [^\"]+\",\"agent\":\""
          + revoked.id() + "\"}");

      // The host that was away: a clear error and a distinct exit status, not a retry loop.
      await("away agent's certificate expired").atMost(LIFETIME).until(() -> Instant.now().isAfter(awayExpiry));
      // The operator saw it coming: past its renewal time, off, and now expired.
      Fleet.Cli status = fleet.rackroll("status");
      assertThat(status.out()).contains("certificates 1 past renewal")
          .containsPattern(away.id() + " +expired \\d+s ago +disconnected");
      away.restart();
      assertThat(away.awaitExit()).isEqualTo(78);
      assertThat(away.log()).contains("certificate expired at")
          .contains("rackroll-agent enroll --controller " + fleet.controllerAddress() + " --token TOKEN");
    }
  }
}
