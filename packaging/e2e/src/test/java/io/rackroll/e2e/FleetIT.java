package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The foundation end to end: real processes, real TLS, driven through the CLI. */
class FleetIT {
  private static final Duration UP = Duration.ofSeconds(90);

  @TempDir Path dir;

  @Test
  void agentsEnrollReportFactsDropOutAndComeBackWithTheSameIdentity() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      // Arrange: two hosts in rack r1, one in r2, each enrolling with its rack's token.
      String r1 = fleet.token("rack=r1,role=web", 2);
      String r2 = fleet.token("rack=r2,role=db", 1);
      Fleet.Agent a1 = fleet.startAgent("r1-a", r1);
      Fleet.Agent a2 = fleet.startAgent("r1-b", r1);
      Fleet.Agent b1 = fleet.startAgent("r2-a", r2);

      await("three agents connected").atMost(UP)
          .failFast("an agent exited", () -> !a1.process.isAlive() || !a2.process.isAlive() || !b1.process.isAlive())
          .until(() -> fleet.connectedCount() == 3);

      // Verify: labels from the tokens, facts from the hosts, ids from the agents' own state.
      Map<String, JsonNode> agents = fleet.agents();
      assertThat(agents.keySet()).containsExactlyInAnyOrder(a1.id(), a2.id(), b1.id());
      JsonNode db = agents.get(b1.id());
      assertThat(db.get("labels").get("rack").asText()).isEqualTo("r2");
      assertThat(db.get("labels").get("role").asText()).isEqualTo("db");
      assertThat(db.get("facts").get("hostname").asText()).isNotBlank();
      assertThat(db.get("facts").get("cpu").get("logicalCores").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
      assertThat(db.get("facts").get("memoryBytes").asLong()).isPositive();
      assertThat(agents.get(a1.id()).get("labels").get("rack").asText()).isEqualTo("r1");

      // The selector reaches the fleet as an operator types it.
      Fleet.Cli r1Only = fleet.rackroll("agents", "--selector", "rack=r1");
      assertThat(r1Only.exit()).isZero();
      assertThat(r1Only.out()).contains(a1.id(), a2.id()).doesNotContain(b1.id());
      Fleet.Cli show = fleet.rackroll("agents", "show", b1.id());
      assertThat(show.out()).contains("labels       rack=r2,role=db", "state        connected", "memory");
      assertThat(fleet.rackroll("agents", "ping", b1.id()).out()).contains("agent " + b1.id() + " answered in");

      // A host moves racks: relabelled in one command, seen by selectors at once, audited.
      Fleet.Cli moved = fleet.rackroll("agents", "label", a2.id(), "rack=r2", "role-", "canary=yes");
      assertThat(moved.exit()).as(moved.toString()).isZero();
      assertThat(moved.out().strip()).isEqualTo("agent " + a2.id() + " labels: canary=yes,rack=r2");
      assertThat(fleet.rackroll("agents", "--selector", "rack=r2").out()).contains(a2.id(), b1.id())
          .doesNotContain(a1.id());
      assertThat(fleet.rackroll("audit").out())
          .containsPattern("agent label +" + a2.id() + " +canary=yes, rack=r2 \\(was r1\\), role- \\(was web\\)|"
              + "agent label +" + a2.id() + " +role- \\(was web\\), canary=yes, rack=r2 \\(was r1\\)");
      Fleet.Cli bad = fleet.rackroll("agents", "label", a2.id(), "role-");
      assertThat(bad.exit()).isEqualTo(1);
      assertThat(bad.err().strip()).isEqualTo("rackroll: agent " + a2.id() + " has no label role (its labels:"
          + " canary=yes,rack=r2)");
      assertThat(fleet.rackroll("agents", "label", a2.id(), "rack").exit()).as("neither set nor remove").isEqualTo(2);

      // Act: SIGKILL one agent.
      String certificate = b1.certificate();
      String serial = db.get("certificateSerial").asText();
      b1.kill();
      await("killed agent disconnected").atMost(UP).until(() -> fleet.stateOf(b1.id()).equals("disconnected"));
      assertThat(fleet.stateOf(a1.id())).isEqualTo("connected");

      // Restart it without a token: it must come back as itself, with no new enrollment.
      b1.restart();
      await("restarted agent connected").atMost(UP)
          .failFast("restarted agent exited", () -> !b1.process.isAlive())
          .until(() -> fleet.stateOf(b1.id()).equals("connected"));
      assertThat(b1.certificate()).isEqualTo(certificate);
      assertThat(fleet.agents().get(b1.id()).get("certificateSerial").asText()).isEqualTo(serial);
      assertThat(fleet.agents()).hasSize(3);
      assertThat(fleet.agents().get(a2.id()).get("labels").get("rack").asText()).as("labels outlive reconnects")
          .isEqualTo("r2");
    }
  }

  @Test
  void aHostLeavesTheFleetOnlyOutsideItsDeploymentsAndLeavesItsHistoryBehind() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      String token = fleet.token("rack=r1", 3);
      Fleet.Agent gone = fleet.startAgent("gone", token);
      Fleet.Agent stays = fleet.startAgent("stays", token);
      fleet.awaitConnected(2);
      Path release = dir.resolve("release-preinstall");
      // Held in its preInstall until the test creates the file: the deployment is running meanwhile.
      fleet.web("1").hook("preInstall", "while [ ! -e " + release + " ]; do sleep 0.1; done", "5m").push();
      String d = fleet.deploy("web@1", "rack=r1", "--canary", "0", "--batch", "100%", "--health-gate", "0s");
      await("gone inside its preInstall").atMost(UP).until(() -> gone.phase("web").equals("INSTALLING"));

      Fleet.Cli refused = fleet.rackroll("agents", "remove", gone.id());
      assertThat(refused.exit()).as(refused.toString()).isEqualTo(1);
      assertThat(refused.err().strip()).isEqualTo("rackroll: agent " + gone.id() + " is in running deployment " + d
          + " of web@1; wait for it to end or abort it with 'rackroll deployment abort " + d + "'");
      assertThat(fleet.agents()).containsKey(gone.id());

      java.nio.file.Files.createFile(release);
      assertThat(fleet.awaitEnd(d)).contains(": completed");
      Fleet.Cli removed = fleet.rackroll("agents", "remove", gone.id(), "--reason", "decommissioned");
      assertThat(removed.exit()).as(removed.toString()).isZero();
      assertThat(removed.out()).startsWith("removed agent " + gone.id() + " (")
          .contains("refused from now on, its stream closed; deployments keep their history of it");

      // Gone from every list, its certificate refused, its history kept.
      assertThat(fleet.agents()).containsOnlyKeys(stays.id());
      assertThat(gone.awaitExit()).isEqualTo(78);
      assertThat(fleet.rackroll("agents", "show", gone.id()).exit()).isEqualTo(1);
      assertThat(fleet.deployment(d)).contains(gone.id(), stays.id());
      assertThat(fleet.rackroll("audit").out()).containsPattern("agent remove +" + gone.id() + " +host \\S+; labels rack=r1: decommissioned");
      assertThat(fleet.rackroll("agents", "remove", gone.id()).err()).contains("no agent " + gone.id());

      // Removed by mistake: it comes back by enrolling again with a new token, as a new agent.
      Fleet.Agent back = fleet.startAgent("back", fleet.token("rack=r1", 1));
      fleet.awaitConnected(2);
      assertThat(fleet.agents()).containsOnlyKeys(stays.id(), back.id());
    }
  }

  @Test
  void agentsReconnectByThemselvesAfterTheControllerIsKilled() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      String token = fleet.token("rack=r1", 2);
      List<Fleet.Agent> agents = List.of(fleet.startAgent("a", token), fleet.startAgent("b", token));
      fleet.awaitConnected(2);

      // SIGKILL the controller: the store still says "connected", and no agent was told goodbye.
      fleet.killController();
      fleet.startController();

      // The restarted controller first marks everyone disconnected; the agents' backoff brings them back.
      fleet.awaitConnected(2);
      for (Fleet.Agent a : agents) {
        assertThat(a.process.isAlive()).isTrue();
      }
    }
  }
}
