package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two controller nodes as processes on one PostgreSQL database, each with a database role of its
 * own: a revocation made through one reaches an agent held by the other, and the leader cut off
 * from the database (its sessions terminated from PostgreSQL, its role barred from logging in)
 * stops running rollouts before the other node leads, and follows once it is let back in.
 */
class HaFaultsIT {
  private static final Duration UP = Duration.ofSeconds(90);
  @TempDir Path dir;

  @Test
  void aRevocationCrossesNodesAndALeaderCutOffFromTheDatabaseStopsBeforeAnotherLeads() throws Exception {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
      sql(postgres, "CREATE ROLE node_a LOGIN SUPERUSER");
      try (Fleet fleet = Fleet.start(dir, "database: " + postgres.getJdbcUrl("node_a", "postgres") + "\nnode: a")) {
        // b logs in with a role of its own, as an operator would give each machine.
        Fleet.Node b = fleet.joinNode("b", yaml -> yaml.replace("user=node_a", "user=postgres"));
        await("a leads, b follows").atMost(UP).pollInterval(Fleet.CLI_POLL)
            .until(() -> fleet.rackroll("status").out().contains("nodes        2 on one database; a leads"));
        List<Fleet.Agent> agents = fleet.twoRacksOfTwo();

        // 1. A revocation made on the leader ends the stream of an agent that b holds: it stops for good.
        Fleet.Agent onB = null;
        for (Fleet.Agent agent : agents) {
          if ("b".equals(query(postgres, "SELECT node FROM agents WHERE id = '" + agent.id() + "'"))) {
            onB = agent;
          }
        }
        if (onB == null) { // the spread put none on b: move one there
          Fleet.Agent moved = agents.get(0);
          moved.kill();
          Files.writeString(moved.config, Files.readString(moved.config).replaceFirst("(?m)^controller: .*$",
              "controller: " + b.address()));
          Files.writeString(moved.home.resolve("state/identity.properties"),
              Files.readString(moved.home.resolve("state/identity.properties")).replaceAll("(?m)^controllers=.*$", ""));
          moved.restart();
          await(moved.name + " on b").atMost(UP).pollInterval(Fleet.CLI_POLL).until(() -> "b".equals(query(postgres,
              "SELECT node FROM agents WHERE id = '" + moved.id() + "' AND state = 'connected'")));
          onB = moved;
        }
        Fleet.ok(fleet.rackroll("agents", "revoke", onB.id(), "--reason", "host stolen"));
        assertThat(onB.awaitExit()).isEqualTo(78);
        assertThat(onB.log()).contains("certificate revoked", "was revoked on another controller node");

        // 2. The leader's database role barred and its sessions terminated, as a partition would.
        fleet.adminThrough(b.address());
        sql(postgres, "ALTER ROLE node_a NOLOGIN");
        sql(postgres, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'node_a'");
        await("b leads").atMost(UP).pollInterval(Fleet.CLI_POLL).until(() -> fleet.leader().equals("b"));
        Instant stopped = at(fleet.controllerLog(), "stops running rollouts before the lease can lapse");
        Instant leads = at(b.log(), "controller node b leads");
        assertThat(stopped).as("a stopped before b led").isBefore(leads);

        // 3. Let back in, a finds b's lease and follows; a deployment through it reaches every agent left.
        sql(postgres, "ALTER ROLE node_a LOGIN");
        await("a follows").atMost(UP).pollInterval(Fleet.CLI_POLL).until(() -> fleet.rackroll("status").out()
            .matches("(?s).*\\n  a +\\S+ +follows .*"));
        fleet.adminThrough(fleet.dataAddress());
        fleet.web("1").push();
        String d = fleet.deploy("web@1", "role=web", "--batch", "100%", "--health-gate", "0s", "--offline", "skip");
        assertThat(fleet.awaitEnd(d)).contains(": completed", "3/3 hosts done");

        // 4. Never two processes as one node: a join under b's name is refused, and a copy of b's data
        //    directory (a cloned machine) refuses to start while b runs; b itself, SIGKILLed and started
        //    again at once, is b again.
        Fleet.Cli join = fleet.rackroll("controller", "join", "--data", dir.resolve("b-again").toString(),
            "--controller", fleet.controllerAddress(), "--credentials", fleet.data.resolve("pki").toString(), "--node", "b");
        assertThat(join.exit()).as(join.toString()).isEqualTo(1);
        assertThat(join.err()).as(join.toString()).contains("controller node name b is in use by the node at "
            + b.address() + "; give the new node a name of its own with --node");
        // As root into a data directory another user owns (the packages' rackroll): everything the
        // join writes there is that user's, or the controller could not read it.
        Path forNobody = Files.createDirectories(dir.resolve("c-data"));
        Files.setOwner(forNobody, forNobody.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        Fleet.ok(fleet.rackroll("controller", "join", "--data", forNobody.toString(), "--controller",
            fleet.controllerAddress(), "--credentials", fleet.data.resolve("pki").toString(), "--node", "c"));
        try (var files = Files.walk(forNobody)) {
          assertThat(files.toList()).allSatisfy(f -> assertThat(Files.getOwner(f).getName()).as(f.toString())
              .isEqualTo("nobody")).extracting(f -> f.getFileName().toString())
              .contains("ca.key", "server.key", "secrets.key", "controller.yaml");
        }
        Fleet.Node clone = b.copy();
        Process refused = clone.launch();
        assertThat(refused.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as("the copy gave up").isTrue();
        assertThat(refused.exitValue()).as(clone.log()).isEqualTo(78);
        assertThat(clone.log()).contains("rackroll: controller node name b is in use by a running node at " + b.address());
        b.kill();
        b.start();
        await("b back").atMost(UP).pollInterval(Fleet.CLI_POLL).until(() -> fleet.rackroll("status").out()
            .matches("(?s).*\\n  b +\\S+ +(leads|follows) .*"));
        assertThat(b.log()).doesNotContain("is in use");
      }
    }
  }

  /** When the first log line containing {@code text} was written. */
  private static Instant at(String log, String text) {
    String line = log.lines().filter(l -> l.contains(text)).findFirst()
        .orElseThrow(() -> new AssertionError("no line with \"" + text + "\" in:\n" + log));
    return Instant.parse(line.substring(0, line.indexOf(' ')));
  }

  private static void sql(EmbeddedPostgres postgres, String statement) throws Exception {
    try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      s.execute(statement);
    }
  }

  private static String query(EmbeddedPostgres postgres, String select) throws Exception {
    try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(select)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }
}
