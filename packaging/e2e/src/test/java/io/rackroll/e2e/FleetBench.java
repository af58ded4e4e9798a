package io.rackroll.e2e;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fleet rows of issue 20 (bench/README.md, "A big fleet on one controller"): a controller
 * process (heap capped at 1 GiB, heartbeats every 10 s) and {@code rackroll simulate} with N
 * agents over real mTLS. Prints, for the controller process: enroll and connect time, CPU while
 * the fleet idles for 60 s, heap per connected agent, and after a restart (SIGTERM, start) the
 * time from listening again until every agent is back. Measures; asserts no time.
 */
@Tag("bench")
class FleetBench {
  @TempDir Path dir;

  @Test
  void bigFleetOnOneController() throws Exception {
    Fleet.forEachScale("10000", dir, FleetBench::run);
  }

  private static void run(Fleet fleet, int agents) throws Exception {
    // Let the connect-time work settle (first flushes, JIT), then measure a minute of idling.
    Thread.sleep(Duration.ofSeconds(20).toMillis()); // a measuring window, not a wait for a condition
    long pid = fleet.controllerPid();
    long cpuBefore = Proc.cpuMillis(pid);
    long idleStarted = System.nanoTime();
    Thread.sleep(Duration.ofSeconds(60).toMillis()); // the measuring window itself
    double idleWall = (System.nanoTime() - idleStarted) / 1e9;
    long idleCpu = Proc.cpuMillis(pid) - cpuBefore;
    System.out.printf("N=%d: idle, heartbeats every 10 s: controller CPU %.1f%% of a core over %.0f s%n", agents,
        idleCpu / 10.0 / idleWall, idleWall);
    System.out.printf("N=%d: controller heap with N connected, after GC: %s%n", agents, Proc.heapAfterGc(pid));

    int logBefore = fleet.simulatorLog().length();
    fleet.stopController();
    fleet.startController();
    long listening = System.nanoTime();
    long cpuRestart = Proc.cpuMillis(fleet.controllerPid());
    fleet.awaitSimulated(agents, logBefore);
    double back = (System.nanoTime() - listening) / 1e9;
    System.out.printf("N=%d: after a restart (SIGTERM, start), all back %.1f s after the controller listened;"
        + " its CPU over that span %.1f s%n", agents, back, (Proc.cpuMillis(fleet.controllerPid()) - cpuRestart)
        / 1000.0);
  }
}
