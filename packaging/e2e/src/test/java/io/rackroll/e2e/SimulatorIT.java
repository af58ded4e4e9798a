package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thousand hosts in ten racks, from {@code rackroll simulate}: every simulated agent enrolled with
 * its own certificate and connected over its own mTLS stream to a real controller process. The
 * controller must plan, batch and finish a rollout at that scale with the rack constraint held
 * at every moment, and roll one whole rack back.
 */
class SimulatorIT {
  @TempDir Path dir;

  @Test
  void thousandAgentsInTenRacksRollOutUnderTheRackLimitAndOneRackRollsBack() throws Exception {
    // Heartbeats every 2 s: a thousand streams on a shared 2-core machine must not look stale.
    try (Fleet fleet = Fleet.start(dir, "heartbeatInterval: 2s\nstaleAfter: 20s", List.of("-Xmx256m"))) {
      fleet.simulate(1000, 10, "--step-time", "20ms");
      assertThat(fleet.rackroll("agents", "--selector", "rack=r7").out().lines()
          .filter(l -> l.contains(" connected ")).count()).isEqualTo(100);

      fleet.web("1").push();
      Fleet.Cli plan = fleet.rackroll("plan", "web@1", "--selector", "sim=true", "--batch", "20%", "--max-per-rack", "5");
      assertThat(plan.out()).contains("1000 host(s) in 21 batch(es)");

      String d1 = fleet.deploy("web@1", "sim=true", "--batch", "20%", "--max-per-rack", "5", "--health-gate", "0s");
      assertThat(fleet.awaitEnd(d1)).contains("1000/1000 hosts done, failures 0 of 0 allowed: completed");
      JsonNode first = fleet.deploymentJson(d1);
      assertThat(first.path("hosts")).allSatisfy(h -> assertThat(h.path("phase").asText()).isEqualTo("ACTIVE"));
      assertThat(Fleet.maxInFlightPerDomain(first)).as("never more than 5 hosts of a rack in flight").isEqualTo(5);

      fleet.web("2").push();
      String d2 = fleet.deploy("web@2", "sim=true", "--batch", "50%", "--max-per-rack", "50", "--health-gate", "0s");
      assertThat(fleet.awaitEnd(d2)).contains("1000/1000 hosts done, failures 0 of 0 allowed: completed");

      // One rack back to the release it had, all at once (the emergency defaults).
      String back = fleet.rackroll("rollback", "web", "--selector", "rack=r3").out().split(" ")[2];
      assertThat(fleet.awaitEnd(back)).contains("100/100 hosts done", ": completed").doesNotContain("FAILED");
      JsonNode rack = fleet.deploymentJson(back);
      assertThat(rack.path("hosts")).allSatisfy(h -> {
        assertThat(h.path("domain").asText()).isEqualTo("r3");
        assertThat(h.path("beforeVersion").asText()).isEqualTo("2");
      });
      assertThat(fleet.rackroll("deployments").out()).contains(back, d2, d1);
    }
    // Stopped with SIGTERM (as close() does): it hangs up and says so, with no stack trace.
    assertThat(Files.readString(dir.resolve("simulator.log"))).doesNotContain("Exception", "\tat ");
  }
}
