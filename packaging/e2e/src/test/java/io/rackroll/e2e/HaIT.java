package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three controller nodes on one PostgreSQL database, as separate processes, the way an operator
 * runs them: the second and third made with {@code rackroll controller join} (the third while a
 * rollout runs), the leader SIGKILLed while a host is in the middle of its batch, then a node
 * holding agents SIGKILLed.
 */
class HaIT {
  private static final Duration UP = Duration.ofSeconds(90);
  /** Each activation appends the version beside the releases: proof of how often a host switched. */
  private static final String COUNT_ACTIVATIONS = "echo \"$RACKROLL_VERSION\" >> \"$RACKROLL_RELEASE_DIR/../../activations\"";
  @TempDir Path dir;


  @Test
  void theLeaderKilledMidBatchAnotherNodeFinishesTheRolloutAndANodesAgentsMoveWhenItDies() throws Exception {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start();
        Fleet fleet = Fleet.start(dir, "database: " + postgres.getJdbcUrl("postgres", "postgres") + "\nnode: a")) {
      Fleet.Node b = fleet.joinNode("b");
      assertThat(b.joined.out()).contains("Joined node b", "Next: rackroll controller run --data " + b.data);
      await("two nodes, a leading").atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.rackroll("status").out().contains("nodes        2 on one database; a leads"));
      List<Fleet.Agent> agents = fleet.twoRacksOfTwo();
      assertThat(Fleet.ok(fleet.rackroll("status")).out()).containsPattern("(?m)^  b +127\\.0\\.0\\.1:\\d+ +follows ");

      // 1. The leader SIGKILLed while the first batch's host is in its activate hook, held there by
      //    the test: another node takes the lease over once it lapses and finishes the rollout; every
      //    host switched once, including those whose node died under them.
      Path go = dir.resolve("go");
      fleet.web("1").activate("while [ ! -e " + go + " ]; do sleep 0.1; done\n" + COUNT_ACTIVATIONS).push();
      String d1 = fleet.deploy("web@1", "role=web", "--batch", "1", "--health-gate", "1s");
      await("a host of the first batch activating").atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.deployment(d1).contains("ACTIVATING"));
      Fleet.Node c = fleet.joinNode("c"); // a third node joins while the rollout runs
      await("three nodes").atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.rackroll("status").out().contains("nodes        3 on one database; a leads"));
      // Agents connected before c joined are told of it at once (else, when their own node dies, they
      // would know no live node).
      String cAt = c.address();
      await("every agent knows of c").atMost(UP).untilAsserted(() -> {
        for (Fleet.Agent agent : agents) {
          java.util.Properties identity = new java.util.Properties();
          try (var in = Files.newBufferedReader(agent.home.resolve("state/identity.properties"))) {
            identity.load(in);
          }
          assertThat(identity.getProperty("controllers", "").split(",")).as(agent.name).contains(cAt);
        }
      });
      String aAt = fleet.controllerAddress();
      fleet.killController();
      // The CLI stays on a's data directory, as an operator on a's machine would: a does not answer,
      // so it goes on to the other nodes a last knew.
      await("another node leads").atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> List.of("b", "c").contains(fleet.leader()));
      assertThat(Fleet.ok(fleet.rackroll("status")).err())
          .startsWith("rackroll: note: controller " + aAt + " does not answer; using 127.0.0.1:");
      Files.writeString(go, "");
      assertThat(fleet.awaitEnd(d1)).contains(": completed", "4/4 hosts done");
      for (Fleet.Agent agent : agents) {
        assertThat(Files.readAllLines(agent.home.resolve("state/apps/web/activations")))
            .as(agent.name + " switched once").containsExactly("1");
      }
      String leader = fleet.leader();
      // The takeover is in the audit, and a, given up for dead, has left the list of nodes.
      assertThat(Fleet.ok(fleet.rackroll("audit", "--who", "controller")).out())
          .contains("node leads", "node lost");
      assertThat(Fleet.ok(fleet.rackroll("status")).out()).contains("nodes        2 on one database; " + leader + " leads")
          .doesNotContainPattern("(?m)^  a +127");

      // 2. The node that follows SIGKILLed: its agents reconnect to the one left, and a deployment
      //    reaches all four. (The artifact was pushed to a, which is gone: nodes serve it from the database.)
      Fleet.Node follower = leader.equals("b") ? c : b;
      Fleet.Node survivor = leader.equals("b") ? b : c;
      follower.kill();
      await("the four agents on " + survivor.name).atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.rackroll("status").out().matches("(?s).*\\n  " + survivor.name + " +\\S+ +leads +4 .*"));
      fleet.web("2").push();
      String d2 = fleet.deploy("web@2", "role=web", "--batch", "100%", "--health-gate", "0s");
      assertThat(fleet.awaitEnd(d2)).contains(": completed", "4/4 hosts done");
      assertThat(survivor.log()).contains("controller node " + leader + " leads");
    }
  }

  /** The README's {@code demo --ha}: it runs its scenario, exits 0 and leaves no process behind. */
  @Test
  void haDemoKillsTheLeaderMidRolloutAndTheOtherNodeFinishesIt() throws Exception {
    Path out = dir.resolve("demo.out");
    try (io.zonky.test.db.postgres.embedded.EmbeddedPostgres postgres =
        io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start()) {
      Process demo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Drackroll.agent.jar=" + Fleet.AGENT_JAR, "-jar", Fleet.CONTROLLER_JAR.toString(),
          "demo", "--ha", "--database", postgres.getJdbcUrl("postgres", "postgres"), "--dir",
          dir.resolve("demo").toString())
          .redirectErrorStream(true).redirectOutput(out.toFile()).start();
      assertThat(demo.waitFor(180, TimeUnit.SECONDS)).as("demo finished in 3 minutes").isTrue();
      String output = Files.readString(out);
      assertThat(demo.exitValue()).as(output).isZero();
      assertThat(output).contains("Joined node b", "nodes        2 on one database; a leads",
          "SIGKILL of node a, the leader", "node b leads", "of hello@1.0.0 completed: 4 active",
          "nodes        1 on one database; b leads", "Demo complete");
      assertThat(DemoIT.processesUsing(dir)).as("no process left running").isEmpty();
    }
  }

}
