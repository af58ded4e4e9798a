package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL an agent (or the controller) at the worst moments and restart it: it must end consistent, finish or undo
 * what it was doing, and tell the controller the truth. Downloads are slowed to 1 MiB/s so the
 * kill lands inside them.
 */
class CrashIT {
  private static final Duration UP = Duration.ofSeconds(90);
  @TempDir Path dir;

  @Test
  void killedDuringDownloadResumesAndKilledAfterTheSwitchRollsBack() throws Exception {
    try (Fleet fleet = Fleet.start(dir, "transferRateLimit: 1MiB")) {
      Fleet.Agent a = fleet.startAgentWith("a", "rack=r1");
      fleet.awaitConnected(1);
      fleet.web("1").push();
      assertThat(fleet.rackroll("deploy", "web@1", "--selector", "rack=r1", "--health-gate", "0s", "--watch").exit()).isZero();

      // 1. SIGKILL in the middle of a 4 MiB download (about 4 s at 1 MiB/s).
      fleet.web("2").payload(4 << 20).push();
      String d2 = fleet.deploy("web@2", "rack=r1", "--health-gate", "0s");
      await("part of the artifact on disk").atMost(UP).until(() -> a.partialDownloadBytes() > 0);
      a.kill();
      assertThat(a.current("web")).isEqualTo("1");
      a.restart();
      assertThat(fleet.awaitEnd(d2)).contains("ACTIVE", ": completed");
      assertThat(a.log()).contains("resuming download of artifact");
      assertThat(a.current("web")).isEqualTo("2");

      // 2. Cached artifacts damaged on disk are detected and fetched again, never unpacked: going back
      //    to 1 re-verifies its artifact (the release itself is still kept, so nothing is unpacked).
      for (Path cached : cachedArtifacts(a)) {
        byte[] bytes = Files.readAllBytes(cached);
        bytes[bytes.length / 2] ^= 0x55;
        Files.write(cached, bytes);
      }
      String again = fleet.deploy("web@1", "rack=r1", "--health-gate", "0s");
      assertThat(fleet.awaitEnd(again)).contains(": completed");
      assertThat(a.log()).contains("is corrupt; deleting it and downloading again");
      assertThat(a.current("web")).isEqualTo("1");

      // 3. SIGKILL while the new release's activate hook runs (current already switched): roll back.
      fleet.web("3").activate("sleep 5").push(); // a slow activate hook
      String d3 = fleet.deploy("web@3", "rack=r1", "--health-gate", "0s");
      await("activating on the host").atMost(UP).until(() -> a.phase("web").equals("ACTIVATING"));
      a.kill();
      a.restart();
      String end = fleet.awaitEnd(d3);
      assertThat(end).contains("ROLLED_BACK", "agent restarted during activation of 3; rolled back to 1");
      assertThat(a.current("web")).isEqualTo("1");
    }
  }

  /** On PostgreSQL, the production store: what was committed before the SIGKILL is there after it. */
  @Test
  void transferCutByTheControllerGoingAwayResumesWhereItBroke() throws Exception {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start();
        Fleet fleet = Fleet.start(dir, "transferRateLimit: 1MiB\ndatabase: " + postgres.getJdbcUrl("postgres", "postgres"))) {
      Fleet.Agent a = fleet.startAgentWith("a", "rack=r1");
      fleet.awaitConnected(1);
      fleet.web("1").payload(16 << 20).push();
      String d1 = fleet.deploy("web@1", "rack=r1", "--health-gate", "0s");
      await("part of the artifact on disk").atMost(UP).until(() -> a.partialDownloadBytes() > 512 * 1024);
      // The transfer held where it is, however slow this machine is: the agent frozen, it reads no more.
      a.freeze();

      // The connection breaks mid-stream (SIGKILL of the controller) a moment after a token was
      // created, then the controller comes back.
      String token = fleet.token("rack=r2", 1);
      fleet.killController();
      long kept = a.partialDownloadBytes();
      // Woken with the controller gone, the agent finds its transfer cut. It keeps trying for as
      // long as the controller is away (here past five attempts, where it once gave up and failed
      // the host), then resumes where the transfer broke.
      a.thaw();
      await("the agent's fifth attempt to reach the controller").atMost(UP)
          .until(() -> a.log().contains("download attempt 5 failed"));
      fleet.startController();

      assertThat(fleet.awaitEnd(d1)).contains("ACTIVE", ": completed");
      assertThat(a.process.isAlive()).isTrue();
      assertThat(a.log()).containsPattern("resuming download of artifact \\S+ at byte [1-9]");
      assertThat(kept).as("bytes kept across the break").isPositive();
      assertThat(a.current("web")).isEqualTo("1");
      fleet.startAgent("b", token);
      fleet.awaitConnected(2);
      assertThat(fleet.controllerLog()).contains("store: PostgreSQL");
    }
  }

  private static java.util.List<Path> cachedArtifacts(Fleet.Agent a) throws Exception {
    try (Stream<Path> s = Files.list(a.home.resolve("state/cache"))) {
      return s.filter(p -> !p.toString().endsWith(".part")).toList();
    }
  }
}
