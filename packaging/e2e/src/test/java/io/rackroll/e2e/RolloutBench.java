package io.rackroll.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Orchestration overhead at scale (bench/README.md): a controller process (heap capped at 1 GiB)
 * and {@code rackroll simulate} with N agents in 10 racks, zero install time, a 0 s health gate.
 * Prints wall time per batch and in total, the controller's CPU over the rollout and its heap
 * after a full GC with every agent connected. Measures; asserts no time.
 */
@Tag("bench")
class RolloutBench {
  @TempDir Path dir;

  @Test
  void rolloutOverSimulatedFleets() throws Exception {
    Fleet.forEachScale("1000,5000", dir, RolloutBench::run);
  }

  private static void run(Fleet fleet, int agents) throws Exception {
    String heapConnected = Proc.heapAfterGc(fleet.controllerPid());

    fleet.web("1").push();
    long cpuBefore = Proc.cpuMillis(fleet.controllerPid());
    long started = System.nanoTime();
    String id = fleet.deploy("web@1", "sim=true", "--batch", "10%", "--health-gate", "0s");
    String end = fleet.awaitEnd(id);
    double wall = (System.nanoTime() - started) / 1e9;
    long cpu = Proc.cpuMillis(fleet.controllerPid()) - cpuBefore;
    if (!end.contains(agents + "/" + agents + " hosts done")) {
      throw new AssertionError("rollout did not finish every host:\n" + end.lines().limit(3).toList());
    }
    JsonNode d = fleet.deploymentJson(id);
    System.out.printf("N=%d: rollout %.1f s wall (CLI round trips included), controller CPU %.1f s, heap with N"
        + " connected after GC: %s%n", agents, wall, cpu / 1000.0, heapConnected);
    batches(d).forEach((batch, row) -> System.out.printf("  batch %2d: %4d hosts, %5d ms from first command to"
        + " last ACTIVE, next batch's first command %d ms after%n", batch + 1, row[0], row[1], row[2]));
  }

  /** Per batch: hosts, span from its first SENT to its last ACTIVE, gap to the next batch's first SENT. */
  static Map<Integer, long[]> batches(JsonNode d) {
    Map<String, Integer> batchOf = new HashMap<>();
    d.path("hosts").forEach(h -> batchOf.put(h.path("agentId").asText(), h.path("batch").asInt()));
    Map<Integer, long[]> firstLast = new TreeMap<>();
    Map<Integer, Integer> hosts = new TreeMap<>();
    batchOf.values().forEach(b -> hosts.merge(b, 1, Integer::sum));
    for (JsonNode t : d.path("transitions")) {
      int b = batchOf.get(t.path("agentId").asText());
      long at = java.time.Instant.parse(t.path("at").asText()).toEpochMilli();
      long[] fl = firstLast.computeIfAbsent(b, x -> new long[] {Long.MAX_VALUE, 0});
      if (t.path("phase").asText().equals("SENT")) {
        fl[0] = Math.min(fl[0], at);
      }
      if (t.path("phase").asText().equals("ACTIVE")) {
        fl[1] = Math.max(fl[1], at);
      }
    }
    Map<Integer, long[]> out = new TreeMap<>();
    List<Integer> order = new ArrayList<>(firstLast.keySet());
    for (int i = 0; i < order.size(); i++) {
      long[] fl = firstLast.get(order.get(i));
      long gap = i + 1 < order.size() ? firstLast.get(order.get(i + 1))[0] - fl[1] : 0;
      out.put(order.get(i), new long[] {hosts.get(order.get(i)), fl[1] - fl[0], gap});
    }
    return out;
  }
}
