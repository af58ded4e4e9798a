package io.rackroll.controller.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.controller.fleet.LinkSettings;
import io.rackroll.controller.testing.TestController;
import io.rackroll.proto.v1.ListAgentsRequest;
import io.rackroll.proto.v1.PingAgentRequest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How many agent streams one controller holds, and what each costs. Not part of the normal test
 * run (tag "bench"); method and results are in bench/README.md. Run:
 * {@code ./mvnw -pl controller/core -am test -Pbench -Dbench.agents=2000}
 */
@Tag("bench")
class StreamCapacityBench {
  @TempDir Path data;

  @Test
  void holdManyStreams() throws Exception {
    int n = Integer.getInteger("bench.agents", 2000);
    long heartbeatMs = 1000;
    try (TestController controller = TestController.start(data,
        new LinkSettings(Duration.ofMillis(heartbeatMs), Duration.ofSeconds(30), 256))) {
      long heapBefore = usedHeapAfterGc();
      int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
      String token = controller.token(Map.of("rack", "bench"), n);

      long cpuBefore = processCpuNanos();
      long started = System.nanoTime();
      Process load = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx1g", "-cp", System.getProperty("java.class.path"), StreamLoad.class.getName(),
          controller.address().toString(), token, Integer.toString(n), Long.toString(heartbeatMs))
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      try {
        BufferedReader out = new BufferedReader(new InputStreamReader(load.getInputStream()));
        assertThat(out.readLine()).isEqualTo("READY " + n);
        double connectSeconds = (System.nanoTime() - started) / 1e9;
        double controllerCpuMs = (processCpuNanos() - cpuBefore) / 1e6;
        long connected = controller.admin().listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList().stream()
            .filter(a -> a.getState().equals("connected")).count();
        assertThat(connected).isEqualTo(n);

        // Let a few heartbeat rounds and sweeps pass under load, then measure.
        Thread.sleep(5 * heartbeatMs); // a measurement window, not a wait for a condition
        long heapWith = usedHeapAfterGc();
        int threadsWith = ManagementFactory.getThreadMXBean().getThreadCount();

        List<Long> rtts = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
          String id = String.format("ag-load-%05d", (i * 7919) % n);
          rtts.add(controller.admin().pingAgent(PingAgentRequest.newBuilder().setAgentId(id).build()).getRoundTripMicros());
        }
        Collections.sort(rtts);

        System.out.printf(Locale.ROOT, "%nBENCH stream capacity: %d agents%n", n);
        System.out.printf(Locale.ROOT, "  enroll + connect all: %.1f s (%.0f agents/s, one client process)%n",
            connectSeconds, n / connectSeconds);
        System.out.printf(Locale.ROOT, "  controller CPU during enroll + connect: %.1f ms per agent (%.1f s total)%n",
            controllerCpuMs / n, controllerCpuMs / 1000);
        System.out.printf(Locale.ROOT, "  controller heap after GC: %.1f MiB before, %.1f MiB with %d streams: %.1f KiB per agent%n",
            heapBefore / 1048576.0, heapWith / 1048576.0, n, (heapWith - heapBefore) / 1024.0 / n);
        System.out.printf(Locale.ROOT, "  JVM threads: %d before, %d with %d streams%n", threadsBefore, threadsWith, n);
        System.out.printf(Locale.ROOT, "  ping round trip over the stream: p50 %.2f ms, p99 %.2f ms, max %.2f ms (500 pings)%n",
            rtts.get(rtts.size() / 2) / 1000.0, rtts.get(rtts.size() * 99 / 100) / 1000.0, rtts.get(rtts.size() - 1) / 1000.0);
        // The one structural claim: no thread per agent.
        assertThat(threadsWith - threadsBefore).isLessThan(64);
      } finally {
        load.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static long usedHeapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200); // give the collector a moment; a measurement, not synchronisation
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
