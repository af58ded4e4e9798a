package io.rackroll.e2e;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several controller nodes (bench/README.md): how long a takeover takes after the leader is
 * SIGKILLed mid-rollout, what a rollout costs when the agents are held by the node that leads
 * against held by another one (every report and command then goes through the database), and how
 * long a SIGKILLed node's agents take to come back on the one left. Two
 * nodes as processes on an embedded PostgreSQL; measures, asserts no time.
 */
@Tag("bench")
class HaBench {
  @TempDir Path dir;


  @Test
  void takeoversAndRolloutsAcrossNodes() throws Exception {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start();
        Fleet fleet = Fleet.start(dir, "database: " + postgres.getJdbcUrl("postgres", "postgres") + "\nnode: a",
            List.of("-Xmx1g"))) {
      Fleet.Node b = fleet.joinNode("b");
      await("a leads").atMost(Duration.ofSeconds(60)).until(() -> fleet.leader().equals("a"));
      fleet.twoRacksOfTwo();

      // 1. Takeovers: the leader SIGKILLed in a batch's 1 s health gate, then started again (it
      //    comes back as a follower); three times, so each node is killed while leading.
      for (int round = 1; round <= 3; round++) {
        String lead = fleet.leader();
        fleet.web(Integer.toString(round)).push();
        String id = fleet.deploy("web@" + round, "role=web", "--batch", "1", "--health-gate", "1s");
        await("second batch").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
            .until(() -> fleet.deploymentJson(id).path("batch").asInt() >= 1);
        Instant killed = Instant.now();
        if (lead.equals("a")) {
          fleet.killController();
          fleet.adminThrough(b.address());
        } else {
          b.kill();
          fleet.adminThrough(fleet.dataAddress());
        }
        String other = lead.equals("a") ? "b" : "a";
        await(other + " leads").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
            .until(() -> fleet.leader().equals(other));
        double seen = Duration.between(killed, Instant.now()).toMillis() / 1000.0;
        fleet.awaitEnd(id);
        JsonNode d = fleet.deploymentJson(id);
        long firstCommand = Long.MAX_VALUE;
        for (JsonNode t : d.path("transitions")) {
          long at = Instant.parse(t.path("at").asText()).toEpochMilli();
          if (t.path("phase").asText().equals("SENT") && at > killed.toEpochMilli()) {
            firstCommand = Math.min(firstCommand, at);
          }
        }
        System.out.printf("takeover %d (%s killed): %s leads %.1f s after the kill (as status saw it);"
            + " the next batch's first command %.1f s after it%n", round, lead, other, seen,
            (firstCommand - killed.toEpochMilli()) / 1000.0);
        if (lead.equals("a")) {
          fleet.startController();
        } else {
          b.start();
        }
        await("two nodes again").atMost(Duration.ofSeconds(60))
            .until(() -> fleet.rackroll("status").out().contains("nodes        2 on one database"));
      }

      // 2. A rollout over 1,000 simulated agents held by the leader, then over 1,000 held by the
      //    other node (reports and commands through the database).
      try {
        rollouts(fleet, b);
      } finally {
        // The nodes' logs, for whoever reads the figures.
        Path keep = java.nio.file.Files.createDirectories(Path.of("target", "ha-bench"));
        java.nio.file.Files.copy(fleet.data.resolve("controller.log"), keep.resolve("a.log"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        java.nio.file.Files.copy(b.data.resolve("controller.log"), keep.resolve("b.log"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  private static void rollouts(Fleet fleet, Fleet.Node b) throws Exception {
    {
      String lead = fleet.leader();
      Fleet.Node follower = b;
      String leaderAddress = lead.equals("a") ? fleet.dataAddress() : b.address();
      String followerAddress = lead.equals("a") ? b.address() : fleet.dataAddress();
      long leaderPid = lead.equals("a") ? fleet.controllerPid() : follower.pid();
      int seed = 1;
      for (String where : List.of("the other node", "the leader")) {
        String node = where.equals("the leader") ? lead : (lead.equals("a") ? "b" : "a");
        fleet.simulate(1000, 10, "--step-time", "0s", "--seed", Integer.toString(seed),
            "--controller", where.equals("the leader") ? leaderAddress : followerAddress);
        // 1,000 and up: the four real agents may be held by the same node.
        Pattern held = Pattern.compile("(?m)^  " + node + " +\\S+ +\\S+ +100[0-4] ");
        await("node " + node + " holds the 1,000").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
            .until(() -> held.matcher(fleet.rackroll("status").out()).find());
        fleet.web("sim" + seed).push();
        long cpu = Proc.cpuMillis(leaderPid);
        long started = System.nanoTime();
        String id = fleet.deploy("web@sim" + seed, "sim=true", "--batch", "10%", "--health-gate", "0s",
            "--offline", "skip");
        String end = fleet.awaitEnd(id);
        System.out.printf("1,000 simulated agents held by %s (%s): rollout %.1f s wall, leader's CPU %.1f s (%s)%n",
            where, node, (System.nanoTime() - started) / 1e9, (Proc.cpuMillis(leaderPid) - cpu) / 1000.0,
            end.lines().filter(l -> l.contains("hosts done")).findFirst().orElse("").trim());
        fleet.killSimulator();
        await("the simulated agents gone").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
            .until(() -> !held.matcher(fleet.rackroll("status").out()).find());
        seed++;
      }

      // 3. The node that does not lead, holding 1,000 simulated agents, SIGKILLed: how long until
      //    they are all back on the leader (they learned its address from their welcome).
      String other = lead.equals("a") ? "b" : "a";
      fleet.simulate(1000, 10, "--step-time", "0s", "--seed", Integer.toString(seed), "--controller", followerAddress);
      Pattern onOther = Pattern.compile("(?m)^  " + other + " +\\S+ +\\S+ +100[0-4] ");
      Pattern onLeader = Pattern.compile("(?m)^  " + lead + " +\\S+ +\\S+ +100[0-4] ");
      await("node " + other + " holds the 1,000").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
          .until(() -> onOther.matcher(fleet.rackroll("status").out()).find());
      fleet.adminThrough(leaderAddress);
      long cpu = Proc.cpuMillis(leaderPid);
      long killed = System.nanoTime();
      if (other.equals("a")) {
        fleet.killController();
      } else {
        follower.kill();
      }
      await("the 1,000 back on " + lead).atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
          .until(() -> onLeader.matcher(fleet.rackroll("status").out()).find());
      System.out.printf("1,000 simulated agents of a SIGKILLed node back on the leader in %.1f s (leader's CPU %.1f s)%n",
          (System.nanoTime() - killed) / 1e9, (Proc.cpuMillis(leaderPid) - cpu) / 1000.0);
    }
  }
}
