package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL an agent at the worst moments and restart it: it must end consistent, finish or undo
 * what it was doing, and tell the controller the truth. Downloads are slowed to 1 MiB/s so the
 * kill lands inside them.
 */
class CrashIT {
  private static final Duration UP = Duration.ofSeconds(90);
  @TempDir Path dir;

  private static String startDeployment(Fleet fleet, String release) {
    Fleet.Cli r = fleet.rackroll("deploy", release, "--selector", "rack=r1");
    assertThat(r.exit()).as(r.toString()).isZero();
    return r.out().split(" ")[2];
  }

  private static void awaitPhase(Fleet fleet, String deployment, String phase) {
    await(deployment + " reaches " + phase).atMost(UP)
        .until(() -> fleet.rackroll("deployment", "show", deployment).out().contains(phase));
  }

  private static String awaitEnd(Fleet fleet, String deployment) {
    await(deployment + " ends").atMost(UP)
        .until(() -> !fleet.rackroll("deployment", "show", deployment).out().contains(": running"));
    return fleet.rackroll("deployment", "show", deployment).out();
  }

  @Test
  void killedDuringDownloadResumesAndKilledAfterTheSwitchRollsBack() throws Exception {
    try (Fleet fleet = Fleet.start(dir, "transferRateLimit: 1MiB")) {
      Fleet.Agent a = fleet.startAgent("a", fleet.token("rack=r1", 1));
      await("agent connected").atMost(UP).until(() -> fleet.connectedCount() == 1);
      fleet.pushWeb("1", "exit 0", "");
      assertThat(fleet.rackroll("deploy", "web@1", "--selector", "rack=r1", "--watch").exit()).isZero();

      // 1. SIGKILL in the middle of a 4 MiB download (about 4 s at 1 MiB/s).
      fleet.pushWeb("2", Fleet.RECORD_VERSION, "exit 0", "", 4 << 20);
      String d2 = startDeployment(fleet, "web@2");
      awaitPhase(fleet, d2, "DOWNLOADING");
      await("part of the artifact on disk").atMost(UP).until(() -> partialBytes(a) > 0);
      a.kill();
      assertThat(a.current("web")).isEqualTo("1");
      a.restart();
      assertThat(awaitEnd(fleet, d2)).contains("ACTIVE", ": completed");
      assertThat(a.log()).contains("resuming download of artifact");
      assertThat(a.current("web")).isEqualTo("2");

      // 2. A cached artifact damaged on disk is detected and fetched again, never unpacked.
      Path cached = cachedArtifact(a);
      byte[] bytes = Files.readAllBytes(cached);
      bytes[bytes.length / 2] ^= 0x55;
      Files.write(cached, bytes);
      String again = startDeployment(fleet, "web@2");
      assertThat(awaitEnd(fleet, again)).contains(": completed");
      assertThat(a.log()).contains("is corrupt; deleting it and downloading again");

      // 3. SIGKILL while the new release's activate hook runs (current already switched): roll back.
      fleet.pushWeb("3", "sleep 5", "exit 0", "", 0); // a slow activate hook
      String d3 = startDeployment(fleet, "web@3");
      awaitPhase(fleet, d3, "ACTIVATING");
      a.kill();
      a.restart();
      String end = awaitEnd(fleet, d3);
      assertThat(end).contains("ROLLED_BACK", "agent restarted during activation of 3; rolled back to 2");
      assertThat(a.current("web")).isEqualTo("2");
    }
  }

  private static long partialBytes(Fleet.Agent a) throws Exception {
    Path cache = a.home.resolve("state/cache");
    if (!Files.isDirectory(cache)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(cache)) {
      return s.filter(p -> p.toString().endsWith(".part")).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private static Path cachedArtifact(Fleet.Agent a) throws Exception {
    try (Stream<Path> s = Files.list(a.home.resolve("state/cache"))) {
      return s.filter(p -> !p.toString().endsWith(".part"))
          .max(java.util.Comparator.comparingLong(p -> p.toFile().lastModified())).orElseThrow();
    }
  }
}
