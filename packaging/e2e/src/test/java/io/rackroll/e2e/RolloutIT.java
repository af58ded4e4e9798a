package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rolling deployments over four agent processes in two racks, driven through the CLI: batches
 * under --max-per-rack, a canary that fails and halts everything, a failure in a later batch
 * that returns every changed host, a rack rollback, and the audit log and host history.
 */
class RolloutIT {
  private static final Duration UP = Duration.ofSeconds(90);
  /** Canary first, then batches of 2 with at most 1 host per rack, each behind a 1 s health gate. */
  private static final String[] ROLLING = {"--canary", "1", "--batch", "2", "--max-per-rack", "1", "--health-gate", "1s"};
  @TempDir Path dir;

  private static Fleet.Cli deploy(Fleet fleet, String release, String... extra) {
    List<String> args = new ArrayList<>(List.of("deploy", release, "--selector", "role=web"));
    args.addAll(List.of(ROLLING));
    args.addAll(List.of(extra));
    args.add("--watch");
    return fleet.rackroll(args.toArray(String[]::new));
  }

  @Test
  void rollingCanaryBudgetAndRackRollback() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      List<Fleet.Agent> agents = fleet.twoRacksOfTwo();

      // The plan is shown without changing anything: canary, then racks interleaved.
      fleet.web("1").push();
      Fleet.Cli plan = fleet.rackroll("plan", "web@1", "--selector", "role=web", "--canary", "1", "--batch", "2",
          "--max-per-rack", "1");
      assertThat(plan.exit()).as(plan.toString()).isZero();
      assertThat(plan.out()).contains("4 host(s) in 3 batch(es); failure budget 0 host(s)", "batch 1 (canary): 1 host(s)",
          "batch 2: 2 host(s)", "batch 3: 1 host(s)");

      // 1. A full rolling deployment; never more than one host of a rack in flight at any moment.
      Fleet.Cli v1 = deploy(fleet, "web@1");
      assertThat(v1.exit()).as(v1.toString()).isZero();
      assertThat(v1.out()).contains("batch 1 of 3", "batch 3 of 3", "completed: 4 active");
      for (Fleet.Agent a : agents) {
        assertThat(a.current("web")).isEqualTo("1");
      }
      String d1 = v1.out().lines().filter(l -> l.startsWith("started deploy ")).findFirst().orElseThrow().split(" ")[2];
      assertThat(Fleet.maxInFlightPerDomain(fleet.deploymentJson(d1))).isEqualTo(1);

      // Healthy hosts already on the release are left alone.
      Fleet.Cli same = fleet.rackroll("plan", "web@1", "--selector", "role=web");
      assertThat(same.out()).contains("0 host(s) in 0 batch(es)", "skipped: 4 host(s)", "already runs web@1 and is healthy");

      // 2. The canary's health fails: it rolls back by itself, the deployment halts, no other host is touched.
      fleet.web("2").health("echo 'cache cold'; exit 1").push();
      Fleet.Cli v2 = deploy(fleet, "web@2");
      assertThat(v2.exit()).isEqualTo(1);
      assertThat(v2.out()).contains("ROLLED_BACK", "failed: 3 not started, 1 rolled back",
          "failure budget spent: 1 host(s) failed, 0 allowed");
      for (Fleet.Agent a : agents) {
        assertThat(a.current("web")).isEqualTo("1");
      }

      // 3. A release that fails only on rack r2 gets past the canary (r1) and fails in batch 2: past the
      //    budget, every host it changed returns to 1; the last r2 host is never touched.
      fleet.web("3").activate("[ \"$RACKROLL_LABEL_RACK\" = r2 ] && { echo 'r2 switch firmware too old'; exit 7; }; "
          + Fleet.RECORD_VERSION).push();
      Fleet.Cli v3 = deploy(fleet, "web@3");
      assertThat(v3.exit()).isEqualTo(1);
      assertThat(v3.out()).contains("r2 switch firmware too old", "rolled_back:", "2 returned to their release before");
      for (Fleet.Agent a : agents) {
        assertThat(a.current("web")).as(a.name).isEqualTo("1");
      }

      // 4. A healthy release everywhere, then rack r2 goes back with one command: no canary, all at once.
      fleet.web("4").push();
      assertThat(deploy(fleet, "web@4").exit()).isZero();
      Fleet.Cli back = fleet.rackroll("rollback", "web", "--selector", "rack=r2", "--watch");
      assertThat(back.exit()).as(back.toString()).isZero();
      assertThat(back.out()).contains("batch 1 of 1", "completed: 2 active");
      for (Fleet.Agent a : agents) {
        assertThat(a.current("web")).as(a.name).isEqualTo(a.name.startsWith("r2") ? "1" : "4");
      }

      // Every admin action and every state change is audited, with who did it.
      Fleet.Cli audit = fleet.rackroll("audit");
      assertThat(audit.out()).contains("admin", "release push", "web@4", "deploy", "rollback", "halt",
          "failure budget spent", "controller");
      Fleet.Cli history = fleet.rackroll("history", "--agent", agents.get(0).id()); // the canary
      assertThat(history.out()).contains("web@4", "web@1", "REVERT_REVERTED", "ACTIVE");
    }
  }

  /** Each activation appends the version to a file beside the releases: proof of how often a host switched. */
  private static final String COUNT_ACTIVATIONS = "echo \"$RACKROLL_VERSION\" >> \"$RACKROLL_RELEASE_DIR/../../activations\"";

  @Test
  void controllerKilledMidRolloutResumesAndSteeringCommandsWork() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      List<Fleet.Agent> agents = fleet.twoRacksOfTwo();

      // 1. SIGKILL the controller mid-rollout (one host per batch, 2 s gates), start it again: the
      //    rollout resumes and completes, and every host switched exactly once.
      fleet.web("1").activate(COUNT_ACTIVATIONS).push();
      String d1 = fleet.deploy("web@1", "role=web", "--batch", "1", "--health-gate", "2s");
      await("second batch running").atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.deploymentJson(d1).path("batch").asInt() >= 1);
      fleet.killController();
      fleet.startController();
      assertThat(fleet.awaitEnd(d1)).contains(": completed", "4/4 hosts done");
      for (Fleet.Agent a : agents) {
        assertThat(java.nio.file.Files.readAllLines(a.home.resolve("state/apps/web/activations")))
            .as(a.name + " switched once").containsExactly("1");
      }

      // 2. Approval after the canary; pause and resume keep it waiting; approve lets it go on.
      fleet.web("2").push();
      String d2 = fleet.deploy("web@2", "role=web", "--approve-after-canary", "--batch", "100%", "--health-gate", "1s");
      await("waiting for approval").atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.deploymentJson(d2).path("state").asText().equals("awaiting_approval"));
      assertThat(agents.stream().filter(a -> currentOf(a).equals("2")).count()).as("only the canary").isEqualTo(1);
      assertThat(fleet.rackroll("deployment", "pause", d2).out()).contains("paused");
      assertThat(fleet.rackroll("deployment", "approve", d2).err())
          .contains("cannot approve deployment " + d2 + ": it is paused");
      assertThat(fleet.rackroll("deployment", "resume", d2).exit()).isZero();
      await("waiting again").atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.deploymentJson(d2).path("state").asText().equals("awaiting_approval"));
      assertThat(fleet.rackroll("deployment", "approve", d2).exit()).isZero();
      assertThat(fleet.awaitEnd(d2)).contains(": completed", "4/4 hosts done");

      // 3. Abort after the canary, with --rollback: the canary returns to 2, nobody else moves.
      fleet.web("3").push();
      String d3 = fleet.deploy("web@3", "role=web", "--approve-after-canary", "--health-gate", "1s");
      await("waiting for approval").atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.deploymentJson(d3).path("state").asText().equals("awaiting_approval"));
      assertThat(fleet.rackroll("deployment", "abort", d3, "--rollback").exit()).isZero();
      assertThat(fleet.awaitEnd(d3)).contains(": rolled_back", "aborted by admin");
      for (Fleet.Agent a : agents) {
        assertThat(a.current("web")).as(a.name).isEqualTo("2");
      }
      Fleet.Cli again = fleet.rackroll("deployment", "abort", d3);
      assertThat(again.exit()).isEqualTo(1);
      assertThat(again.err()).contains("deployment " + d3 + " already ended (rolled_back)");
    }
  }

  private static String currentOf(Fleet.Agent a) {
    try {
      return a.current("web");
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
