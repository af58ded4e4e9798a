package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Releases reach hosts through the CLI: activate, roll back by themselves, refuse, and return on command. */
class DeployIT {
  private static final Duration UP = Duration.ofSeconds(90);
  @TempDir Path dir;

  @Test
  void deployRollBackByItselfRefuseAndRollBackOnCommand() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      Fleet.Agent r1 = fleet.startAgentWith("r1-a", "rack=r1,role=web");
      Fleet.Agent r2 = fleet.startAgentWith("r2-a", "rack=r2,role=web");
      fleet.awaitConnected(2);

      // v1 everywhere: both hosts end ACTIVE and the watch exits 0.
      fleet.web("1").push();
      Fleet.Cli v1 = fleet.rackroll("deploy", "web@1", "--selector", "role=web", "--health-gate", "1s", "--watch");
      assertThat(v1.exit()).as(v1.toString()).isZero();
      assertThat(v1.out()).contains("completed: 2 active");
      assertThat(List.of(r1.current("web"), r2.current("web"))).containsOnly("1");
      // Active releases keep reporting their health, with the host's load, memory and disk.
      await("health reported").atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.rackroll("agents", "show", r1.id()).out()
          .contains("health       web: healthy (1 of 1 checks pass)"));
      assertThat(fleet.rackroll("agents", "show", r1.id()).out()).contains("memory available, ", "disk free");

      // v2's health check fails on the canary, which rolls back to 1 by itself; the deployment halts
      // before the other host, and the watch exits non-zero and says why.
      fleet.web("2").health("echo 'db unreachable'; exit 1").push();
      Fleet.Cli v2 = fleet.rackroll("deploy", "web@2", "--selector", "role=web", "--watch");
      assertThat(v2.exit()).as(v2.toString()).isEqualTo(1);
      assertThat(v2.out()).contains("ROLLED_BACK", "exec hooks/health.sh exited with 1", "rolled back to 1",
          "failed: 1 not started, 1 rolled back", "failure budget spent: 1 host(s) failed, 0 allowed");
      assertThat(List.of(r1.current("web"), r2.current("web"))).containsOnly("1");
      assertThat(fleet.rackroll("agents", "show", r1.id()).out()).contains("app          web: current 1, last job 2 ROLLED_BACK");

      // A release the hosts' reported facts cannot take: plan names who and why, deploy refuses
      // before any host hears of it, --skip-unfit leaves them out.
      fleet.web("3").manifest("requires:\n  minMemory: 1024TiB\n").push();
      Fleet.Cli plan3 = fleet.rackroll("plan", "web@3", "--selector", "role=web");
      assertThat(plan3.exit()).as(plan3.toString()).isZero();
      assertThat(plan3.out()).contains("0 host(s) in 0 batch(es)", "unfit: 2 host(s) cannot take the release",
          "deploy refuses this plan (--skip-unfit skips them)", "needs 1.0 PiB memory, has");
      Fleet.Cli v3 = fleet.rackroll("deploy", "web@3", "--selector", "role=web", "--watch");
      assertThat(v3.exit()).as(v3.toString()).isEqualTo(1);
      assertThat(v3.err().strip()).startsWith("rackroll: 2 of 2 selected host(s) cannot take web@3 by the facts they reported: ")
          .contains("needs 1.0 PiB memory, has").endsWith("deploy to the others with --skip-unfit or narrow the selector")
          .doesNotContain("\n");
      Fleet.Cli skipped3 = fleet.rackroll("deploy", "web@3", "--selector", "role=web", "--skip-unfit", "--watch");
      assertThat(skipped3.exit()).as(skipped3.toString()).isZero();
      assertThat(skipped3.out()).contains("SKIPPED", "(--skip-unfit)", "2 skipped");
      // Free space only the host knows: it refuses before it downloads a byte.
      fleet.web("3b").manifest("requires:\n  minFreeDisk: 1024TiB\n").payload(1 << 20).push();
      long downloaded = r2.downloadedBytes();
      Fleet.Cli v3b = fleet.rackroll("deploy", "web@3b", "--selector", "rack=r2", "--watch");
      assertThat(v3b.exit()).isEqualTo(1);
      assertThat(v3b.out()).contains("FAILED", "needs 1.0 PiB free on ", "(checked before the download)");
      assertThat(r2.downloadedBytes()).as("bytes downloaded for web@3b").isEqualTo(downloaded);
      assertThat(r2.current("web")).isEqualTo("1");

      // v4 healthy, then an admin rolls rack r1 back with one command: no download, back on 1.
      fleet.web("4").push();
      assertThat(fleet.rackroll("deploy", "web@4", "--selector", "role=web", "--health-gate", "1s", "--watch").exit())
          .isZero();
      Fleet.Cli rollback = fleet.rackroll("rollback", "web", "--selector", "rack=r1", "--watch");
      assertThat(rollback.exit()).as(rollback.toString()).isZero();
      assertThat(r1.current("web")).isEqualTo("1");
      assertThat(r2.current("web")).isEqualTo("4");
    }
  }

  @Test
  void hostsThatAreDownAreReportedUnreachableNotSkipped() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      Fleet.Agent up = fleet.startAgentWith("up", "rack=r1");
      Fleet.Agent down = fleet.startAgentWith("down", "rack=r1");
      fleet.awaitConnected(2);
      down.kill();
      await("one agent disconnected").atMost(UP).until(() -> fleet.stateOf(down.id()).equals("disconnected"));

      fleet.web("1").push();
      Fleet.Cli r = fleet.rackroll("deploy", "web@1", "--selector", "rack=r1", "--batch", "100%", "--canary", "0",
          "--offline", "fail", "--watch");

      assertThat(r.exit()).isEqualTo(1);
      assertThat(r.out()).contains("UNREACHABLE", "[unreachable] agent " + down.id() + " is not connected (--offline fail)",
          "1 active, 1 unreachable");
      assertThat(up.current("web")).isEqualTo("1");
    }
  }

  @Test
  void agentKilledDuringInstallFinishesAfterRestart() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      Fleet.Agent a = fleet.startAgentWith("a", "rack=r1");
      fleet.awaitConnected(1);
      fleet.web("1").push();
      assertThat(fleet.rackroll("deploy", "web@1", "--selector", "rack=r1", "--health-gate", "0s", "--watch").exit())
          .isZero();

      // postInstall held until the test lets it go, so the kill lands inside INSTALLING however busy
      // the machine is.
      Path go = dir.resolve("postinstall-may-finish");
      fleet.web("2").hook("postInstall", "echo started >> " + dir.resolve("postinstall-runs")
          + "; while [ ! -e " + go + " ]; do sleep 0.1; done", "5m").push();

      String id = fleet.deploy("web@2", "rack=r1", "--health-gate", "0s");
      await("inside postInstall").atMost(UP).until(() -> Files.exists(dir.resolve("postinstall-runs")));

      a.kill(); // SIGKILL in the middle of postInstall
      assertThat(a.phase("web")).isEqualTo("INSTALLING");
      assertThat(a.current("web")).as("current still points at a complete release").isEqualTo("1");
      a.restart();
      await("postInstall run again after the restart").atMost(UP)
          .until(() -> Files.readAllLines(dir.resolve("postinstall-runs")).size() == 2);
      Files.createFile(go);

      assertThat(fleet.awaitEnd(id)).contains("ACTIVE").contains(": completed");
      assertThat(a.current("web")).isEqualTo("2");
    }
  }

  @Test
  void aHostKeepsOnlyWhatItsKeptReleasesNeedAndEachHookLogIsBounded() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      Fleet.Agent a = fleet.startAgentWith("a", "rack=r1");
      fleet.awaitConnected(1);
      // Five releases in a row, each with a postInstall that prints 2 MiB; the agent keeps three.
      for (int v = 1; v <= 5; v++) {
        fleet.web(Integer.toString(v)).payload(64 << 10)
            .hook("postInstall", "head -c 2097152 /dev/zero | tr '\\0' x; echo; echo done " + v, "60s").push();
        Fleet.Cli deploy = fleet.rackroll("deploy", "web@" + v, "--selector", "rack=r1", "--health-gate", "0s", "--watch");
        assertThat(deploy.exit()).as(deploy.toString()).isZero();
      }

      Path app = a.state.resolve("apps/web");
      assertThat(names(app.resolve("releases"))).containsExactlyInAnyOrder("3", "4", "5");
      // The cache holds the artifacts of those three and nothing else: no older one, no partial file.
      List<String> needed = new java.util.ArrayList<>();
      for (String release : names(app.resolve("releases"))) {
        needed.add(Files.readString(app.resolve("releases").resolve(release).resolve(".rackroll-artifact")).strip());
      }
      assertThat(names(a.state.resolve("cache"))).containsExactlyInAnyOrderElementsOf(needed);
      // Hook logs went with their releases; each kept one holds the end of the output, cut to 1 MiB.
      assertThat(names(app.resolve("logs"))).allMatch(n -> n.startsWith("3-") || n.startsWith("4-") || n.startsWith("5-"))
          .anyMatch(n -> n.startsWith("5-postInstall"));
      for (String log : names(app.resolve("logs"))) {
        Path file = app.resolve("logs").resolve(log);
        assertThat(Files.size(file)).as(log).isLessThanOrEqualTo((1 << 20) + 200);
        if (log.contains("postInstall")) {
          assertThat(Files.readString(file)).as(log).startsWith("[rackroll: the first ")
              .endsWith("done " + log.substring(0, 1) + "\n");
        }
      }
    }
  }

  private static List<String> names(Path dir) throws java.io.IOException {
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).toList();
    }
  }
}
