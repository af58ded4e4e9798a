package io.rackroll.e2e;

import static io.rackroll.e2e.Fleet.ok;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling deploy as issue 20 states it (bench/README.md, "Batches with real agents"): 20 agent
 * processes on this machine in 2 racks, a 20 MB release whose activate hook and one exec health
 * check pass at once ({@code healthyAfter: 1}), {@code --batch 2 --canary 0 --health-gate 0s}.
 * Prints the wall time of {@code deploy --watch} and each batch's span; asserts no time.
 */
@Tag("bench")
class BatchBench {
  @TempDir Path dir;

  @Test
  void rollingDeployToTwentyAgentProcesses() throws Exception {
    int agents = Integer.getInteger("bench.agents", 20);
    try (Fleet fleet = Fleet.start(dir)) {
      // Through packaging/deb/src/bin/rackroll-agent, as the unit runs them (-Dbench.agentJvm=test for the suite's options).
      if (!System.getProperty("bench.agentJvm", "packaged").equals("test")) {
        fleet.agentsThroughLauncher();
      }
      for (int i = 0; i < agents; i++) {
        fleet.startAgentWith("a" + i, "bench=yes,rack=r" + (i % 2 + 1));
      }
      fleet.awaitConnected(agents);
      fleet.web("1").payload(20 << 20).healthyAfter(1).push();
      long started = System.nanoTime();
      Fleet.Cli deploy = ok(fleet.rackroll("deploy", "web@1", "--selector", "bench=yes", "--batch", "2", "--canary",
          "0", "--health-gate", "0s", "--watch"));
      double wall = (System.nanoTime() - started) / 1e9;
      String id = deploy.out().lines().map(l -> l.replaceAll(".*\\b(d-[a-z0-9]+)\\b.*", "$1"))
          .filter(l -> l.matches("d-[a-z0-9]+")).findFirst().orElseThrow();
      JsonNode d = fleet.deploymentJson(id);
      System.out.printf("%d agents, 20 MB release: deploy --watch %.1f s wall (its JVM's start included)%n", agents,
          wall);
      phases(d);
      RolloutBench.batches(d).forEach((batch, row) -> System.out.printf("  batch %2d: %d hosts, %5d ms from first"
          + " command to last ACTIVE, next batch's first command %d ms after%n", batch + 1, row[0], row[1], row[2]));
    }
  }

  /** Per phase, the median time hosts spent in it (from entering it to entering the next). */
  private static void phases(JsonNode d) {
    java.util.Map<String, java.util.List<Long>> last = new java.util.HashMap<>();
    java.util.Map<String, java.util.List<Long>> spent = new java.util.LinkedHashMap<>();
    java.util.Map<String, String> phaseOf = new java.util.HashMap<>();
    java.util.Map<String, Long> since = new java.util.HashMap<>();
    for (JsonNode t : d.path("transitions")) {
      String host = t.path("agentId").asText();
      long at = java.time.Instant.parse(t.path("at").asText()).toEpochMilli();
      if (phaseOf.containsKey(host)) {
        spent.computeIfAbsent(phaseOf.get(host), k -> new java.util.ArrayList<>()).add(at - since.get(host));
      }
      phaseOf.put(host, t.path("phase").asText());
      since.put(host, at);
    }
    spent.forEach((phase, ms) -> {
      java.util.Collections.sort(ms);
      System.out.printf("  in %-15s median %4d ms, max %4d ms%n", phase, ms.get(ms.size() / 2), ms.get(ms.size() - 1));
    });
  }
}
