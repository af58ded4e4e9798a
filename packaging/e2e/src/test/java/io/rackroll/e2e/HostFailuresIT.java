package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.rackroll.agent.testing.Tmpfs;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures say whose they are: a hook that exits non-zero, a hook that hangs, a disk that fills up
 * during the download, a disk that turned read-only. Each reaches the operator's CLI with its own
 * kind and reason, and leaves the running release untouched.
 */
class HostFailuresIT {
  private static final Duration UP = Duration.ofSeconds(90);
  @TempDir Path dir;

  @Test
  void hookFailuresNameTheHookTheExitAndTheOutput() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      Fleet.Agent a = fleet.startAgentWith("a", "rack=r1");
      fleet.awaitConnected(1);
      fleet.web("1").push();
      assertThat(fleet.rackroll("deploy", "web@1", "--selector", "rack=r1", "--health-gate", "0s", "--watch").exit()).isZero();

      // postInstall exits 3: the host never switches, the new release is not kept half-configured.
      fleet.web("2").hook("postInstall", "echo 'migration 7 failed' >&2; exit 3", "10s").push();
      Fleet.Cli v2 = fleet.rackroll("deploy", "web@2", "--selector", "rack=r1", "--health-gate", "0s", "--watch");
      assertThat(v2.exit()).as(v2.toString()).isEqualTo(1);
      assertThat(v2.out()).contains("FAILED", "[hook_failed] postInstall hook hooks/postInstall.sh of web@2 exited"
          + " with 3; output: migration 7 failed", ": 1 failed (failure budget spent");
      assertThat(a.current("web")).isEqualTo("1");
      assertThat(a.home.resolve("state/apps/web/releases/2")).doesNotExist();

      // preInstall hangs: killed at its timeout, with a distinct kind.
      fleet.web("3").hook("preInstall", "echo waiting for lock; sleep 60", "1s").push();
      Fleet.Cli v3 = fleet.rackroll("deploy", "web@3", "--selector", "rack=r1", "--health-gate", "0s", "--watch");
      assertThat(v3.exit()).isEqualTo(1);
      assertThat(v3.out()).contains("[hook_timed_out] preInstall hook hooks/preInstall.sh of web@3 timed out after 1s"
          + " and was killed; output: waiting for lock");
      assertThat(a.current("web")).isEqualTo("1");

      // activate exits 5 after the switch: the host goes back to 1 by itself and says both.
      fleet.web("4").activate("echo 'port 8080 in use'; exit 5").push();
      Fleet.Cli v4 = fleet.rackroll("deploy", "web@4", "--selector", "rack=r1", "--health-gate", "0s", "--watch");
      assertThat(v4.exit()).isEqualTo(1);
      assertThat(v4.out()).contains("ROLLED_BACK", "[hook_failed] activate hook hooks/activate.sh of web@4 exited"
          + " with 5; output: port 8080 in use; rolled back to 1");
      assertThat(a.current("web")).isEqualTo("1");

      // What an operator sees first: the summary and the metrics.
      Fleet.Cli status = fleet.rackroll("status");
      assertThat(status.exit()).as(status.toString()).isZero();
      assertThat(status.out()).contains("controller   ", " at " + fleet.controllerAddress() + ", up ",
          "agents       1 connected, 0 stale, 0 disconnected", "deployments  none running", "certificates every agent renewed on time",
          "failures     latest 3")
          .containsPattern("r1 +1 +0 +0 +0")
          .containsPattern(a.id() + " +web@4 +ROLLED_BACK")
          .containsPattern(a.id() + " +web@2 +FAILED");
      await("metrics refreshed").atMost(Duration.ofSeconds(30))
          .until(() -> fleet.metrics().contains("rackroll_deployments{state=\"completed\"} 1.0"));
      String metrics = fleet.metrics();
      assertThat(metrics).contains("rackroll_agents_connected 1.0", "rackroll_agents{state=\"connected\"} 1.0",
          "rackroll_rpc_seconds_count{code=\"OK\",method=\"rackroll.v1.Admin/Deploy\"} 4",
          "rackroll_artifact_transfers_seconds_count{outcome=\"completed\"}", "rackroll_heartbeat_lag_max_seconds",
          "jvm_memory_used_bytes");
      assertThat(metrics).containsPattern("rackroll_deployments\\{state=\"(failed|rolled_back)\"} [1-3]\\.0");
      assertThat(metrics).containsPattern("rackroll_artifact_served_bytes_total [1-9]");
      // And the host's own.
      await("agent health reported").atMost(Duration.ofSeconds(30))
          .until(() -> a.metrics().contains("rackroll_agent_app_healthy{app=\"web\"} 1.0"));
      assertThat(a.metrics()).contains("rackroll_agent_connected 1.0",
          "rackroll_agent_app_phase{app=\"web\",phase=\"ROLLED_BACK\"} 1.0")
          .containsPattern("rackroll_agent_downloaded_bytes_total [1-9]")
          .containsPattern("rackroll_agent_certificate_expiry_seconds [1-9]");
    }
  }

  @Test
  void anAppThatBreaksAfterItsDeploymentIsSeenWhereverTheOperatorLooks() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      Fleet.Agent a = fleet.startAgentWith("a", "rack=r1");
      fleet.awaitConnected(1);
      // Healthy until something on the host breaks it: the file the test writes beside the state.
      fleet.web("1").health("[ ! -e ../../../../../broken ]").push();
      assertThat(fleet.rackroll("deploy", "web@1", "--selector", "rack=r1", "--health-gate", "0s", "--watch").exit())
          .isZero();
      await("reported healthy").atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.rackroll("status").out().contains("health       every reported app healthy"));

      Files.writeString(a.home.resolve("broken"), "");
      await("unhealthy in status").atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.rackroll("status").out().contains("health       1 app(s) unhealthy on 1 host(s)"));
      assertThat(fleet.rackroll("status").out())
          .containsPattern(a.id() + " +\\S+ +r1 +web@1 +\\d+s ago +UNHEALTHY \\(0 of 1 checks pass\\)");
      assertThat(fleet.rackroll("agents").out()).containsPattern(a.id() + " .* web\n");
      await("the metric").atMost(UP).until(() -> fleet.metrics().contains("rackroll_apps_unhealthy{app=\"web\"} 1.0"));

      Files.delete(a.home.resolve("broken"));
      await("healthy again").atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.rackroll("status").out().contains("health       every reported app healthy"));
      assertThat(fleet.rackroll("agents").out()).containsPattern(a.id() + " .* -\n");
      await("the metric back to 0").atMost(UP)
          .until(() -> fleet.metrics().contains("rackroll_apps_unhealthy{app=\"web\"} 0.0"));
    }
  }

  @Test
  void diskFullDuringDownloadAndReadOnlyDiskLeaveTheRunningReleaseAlone() throws Exception {
    // Downloads at 1 MiB/s, so the disk can fill up while one runs.
    try (Tmpfs disk = Tmpfs.mount(dir.resolve("agents/a/state"), "12m");
        Fleet fleet = Fleet.start(dir, "transferRateLimit: 1MiB")) {
      Fleet.Agent a = fleet.startAgentWith("a", "rack=r1");
      fleet.awaitConnected(1);
      fleet.web("1").push();
      assertThat(fleet.rackroll("deploy", "web@1", "--selector", "rack=r1", "--health-gate", "0s", "--watch").exit()).isZero();

      // 1. Something else on the host fills the disk while a 4 MiB artifact downloads.
      fleet.web("2").payload(4 << 20).push();
      String d2 = fleet.deploy("web@2", "rack=r1", "--health-gate", "0s");
      await("part of the artifact on disk").atMost(UP).until(() -> a.partialDownloadBytes() > 0);
      Path filler = disk.dir.resolve("filler");
      fill(filler);
      String full = fleet.awaitEnd(d2);
      assertThat(full).contains("FAILED", "[disk_full] no space left on " + disk.dir, "free space and retry");
      assertThat(a.current("web")).isEqualTo("1");
      assertThat(a.partialDownloadBytes()).as("the partial download gave its space back").isZero();

      // Space freed: the same release goes through. The download (about 4 s) outlasts the 2 s host
      // timeout: its progress reports, shown in the deployment, are what keep the host in.
      Files.delete(filler);
      // Watched as an operator would: the watch polls twice a second, so it sees the download
      // however busy this machine is (polling with a new CLI process each time could miss it).
      Fleet.Cli again = fleet.rackroll("deploy", "web@2", "--selector", "rack=r1", "--health-gate", "0s",
          "--host-timeout", "2s", "--watch");
      assertThat(again.exit()).as(again.toString()).isZero();
      assertThat(again.out()).containsPattern("DOWNLOADING +[1-9][0-9]?% of 4\\.0 MiB").contains("ACTIVE")
          .doesNotContain("TIMED_OUT");
      assertThat(a.current("web")).isEqualTo("2");

      // 2. The disk turns read-only: the job fails at once with that reason, nothing changes.
      fleet.web("3").push();
      disk.readOnly();
      String d3 = fleet.deploy("web@3", "rack=r1", "--health-gate", "0s");
      String readOnly = fleet.awaitEnd(d3);
      assertThat(readOnly).contains("FAILED", "[disk_read_only] web@3: cannot record its state: ", "Read-only file system");
      assertThat(a.current("web")).isEqualTo("2");

      // Writable again: the agent was never confused about where it stood.
      disk.writable();
      assertThat(fleet.awaitEnd(fleet.deploy("web@3", "rack=r1", "--health-gate", "0s"))).contains("ACTIVE", ": completed");
      assertThat(a.current("web")).isEqualTo("3");
    }
  }

  /** Writes to {@code file} until the file system says it is full. */
  private static void fill(Path file) throws IOException {
    byte[] block = new byte[64 * 1024];
    try (OutputStream out = Files.newOutputStream(file)) {
      while (true) {
        out.write(block);
      }
    } catch (IOException e) {
      if (!String.valueOf(e.getMessage()).contains("No space left")) {
        throw e;
      }
    }
  }
}
