package io.rackroll.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.proto.v1.DeploymentHost;
import io.rackroll.proto.v1.DeploymentRecord;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The block a terminal shows for a deployment, read without its colours. */
class LiveViewTest {
  private static final Instant T = Instant.parse("2026-12-02T10:00:00Z");

  private static DeploymentHost host(String id, int batch, String phase, Instant updated) {
    return DeploymentHost.newBuilder().setAgentId(id).setBatch(batch).setPhase(phase)
        .setUpdatedEpochMillis(updated.toEpochMilli()).build();
  }

  private static DeploymentRecord.Builder deployment(String state, int batch, int batches) {
    return DeploymentRecord.newBuilder().setId("d-1").setKind("deploy").setApp("web").setVersion("2")
        .setSelector("role=web").setState(state).setBatch(batch).setBatches(batches).setAllowedFailures(1)
        .putOptions("healthGate", "10s");
  }

  private static List<String> plain(DeploymentRecord d, Instant now) {
    return LiveView.lines(d, now).stream().map(l -> l.replaceAll("\033\\[[0-9;]*m", "")).toList();
  }

  @Test
  void aRunningBatchInItsHealthGateShowsTheTimeLeftAndEachBatchItsHostsByPhase() {
    DeploymentRecord d = deployment("running", 1, 3)
        .addHosts(host("a", 0, "ACTIVE", T.minusSeconds(30)))
        .addHosts(host("b", 1, "ACTIVE", T.minusSeconds(4)))
        .addHosts(host("c", 1, "ACTIVE", T.minusSeconds(3)))
        .addHosts(host("d", 2, "PENDING", T.minusSeconds(60)))
        .build();
    assertThat(plain(d, T)).containsExactly(
        "deploy d-1  web@2  selector \"role=web\"  running",
        "━".repeat(22) + "━".repeat(8) + " 3/4 hosts done  failures 0 of 1 allowed  health gate 7 s left",
        "✓ batch 1  1 ACTIVE",
        "▶ batch 2  2 ACTIVE",
        "  batch 3  1 PENDING");
    assertThat(plain(d, T.plusMillis(6_500)).get(1)).endsWith("health gate 1 s left");
    assertThat(plain(d, T.plusSeconds(20)).get(1)).endsWith("health gate 0 s left");
  }

  @Test
  void noGateCountsWhileHostsAreStillChangingOrTheDeploymentWaits() {
    DeploymentRecord installing = deployment("running", 0, 1).addHosts(host("a", 0, "ACTIVE", T))
        .addHosts(host("b", 0, "INSTALLING", T)).build();
    assertThat(LiveView.gateEnds(installing)).isEmpty();
    DeploymentRecord waiting = deployment("awaiting_approval", 0, 2).addHosts(host("a", 0, "ACTIVE", T)).build();
    assertThat(LiveView.gateEnds(waiting)).isEmpty();
    assertThat(plain(waiting, T).get(0)).endsWith("awaiting_approval");
    DeploymentRecord noGate = deployment("running", 0, 1).putAllOptions(Map.of("healthGate", "0s"))
        .addHosts(host("a", 0, "ACTIVE", T)).build();
    assertThat(LiveView.gateEnds(noGate)).isEmpty();
  }

  @Test
  void failedHostsAreListedAndManyBatchesFoldIntoFewLines() {
    DeploymentRecord.Builder b = deployment("running", 20, 40).setFailures(2);
    for (int i = 0; i < 40; i++) {
      b.addHosts(host("h" + i, i, i < 20 ? "ACTIVE" : "PENDING", T));
    }
    b.addHosts(DeploymentHost.newBuilder().setAgentId("x1").setBatch(3).setPhase("FAILED").setFailureKind("hook_failed")
        .setFailure("activate exited 1").build());
    List<String> lines = plain(b.build(), T);
    assertThat(lines.get(1)).contains("failures 2 of 1 allowed");
    assertThat(lines).contains("batches 1-19 done", "✓ batch 20  1 ACTIVE", "▶ batch 21  1 PENDING",
        "… 10 more batches");
    assertThat(lines.stream().filter(l -> l.contains("batch ")).count()).isEqualTo(LiveView.MAX_BATCH_LINES - 1);
    assertThat(lines.get(lines.size() - 1)).contains("x1", "FAILED", "[hook_failed] activate exited 1");
  }

  @Test
  void plainLinesWithNoColorOrOffATerminal() {
    assertThat(LiveView.wanted(Map.of("NO_COLOR", "1", "TERM", "xterm"))).isFalse();
    assertThat(LiveView.wanted(Map.of("TERM", "dumb"))).isFalse();
    // The tests' own output is not a terminal.
    assertThat(LiveView.wanted(Map.of("TERM", "xterm"))).isFalse();
  }
}
