package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Environments with agent processes in two of them, driven through the CLI: an overlapping file
 * refused, a release promoted staging to production only once it completed in staging, and
 * production's change window, which refuses a promotion before it opens and holds a rollout
 * between batches once it closes. The controller runs on a clock the test moves.
 */
class EnvironmentsIT {
  @TempDir Path dir;

  @Test
  void aReleaseIsPromotedAlongTheLifecycleInsideProductionsWindow() throws Exception {
    try (Fleet fleet = Fleet.startWithTestClock(dir)) {
      Fleet.Agent staging = fleet.startAgentWith("staging-1", "env=staging,rack=r1");
      Fleet.Agent prod1 = fleet.startAgentWith("prod-1", "env=prod,rack=r1");
      Fleet.Agent prod2 = fleet.startAgentWith("prod-2", "env=prod,rack=r2");
      fleet.awaitConnected(3);
      fleet.web("1").push();

      // Production may change for half an hour a day, starting a few hours from now.
      Instant opens = Instant.now().plus(Duration.ofHours(3)).truncatedTo(ChronoUnit.MINUTES);
      LocalTime start = LocalTime.ofInstant(opens, ZoneOffset.UTC);
      String window = "{days: daily, start: \"" + start + "\", end: \"" + start.plusMinutes(30) + "\"}";
      Path file = dir.resolve("environments.yaml");
      Files.writeString(file, """
          lifecycle: [staging, production]
          environments:
            staging:
              selector: env=staging
              strategy: {healthGate: 1s}
            production:
              selector: rack in (r1, r2)
              strategy: {canary: "0", batch: "1", healthGate: 10m}
              requirePromotion: true
              windows:
                - WINDOW
          """.replace("WINDOW", window));

      // An agent in two environments: refused, naming it; nothing applied.
      Fleet.Cli overlap = fleet.rackroll("env", "apply", "-f", file.toString());
      assertThat(overlap.exit()).isEqualTo(1);
      assertThat(overlap.err().strip()).isEqualTo("rackroll: environments.yaml: 1 agent(s) would belong to more than"
          + " one environment: " + staging.id() + " (staging, production); make the selectors exclusive"
          + " (e.g. env=staging, env=prod)");
      assertThat(fleet.rackroll("envs").out()).startsWith("no environments");

      Files.writeString(file, Files.readString(file).replace("rack in (r1, r2)", "env=prod"));
      Fleet.Cli apply = fleet.rackroll("env", "apply", "-f", file.toString());
      assertThat(apply.exit()).as(apply.toString()).isZero();
      assertThat(apply.out()).contains("applied environments file version 1: staging (1 agents), production (2 agents)",
          "lifecycle: staging -> production");
      Fleet.Cli envs = fleet.rackroll("envs");
      assertThat(envs.out()).containsPattern("staging +env=staging +1 +1 +open")
          .containsPattern("production +env=prod +2 +2 +closed until \\w{3} [-0-9]+ " + start + " UTC");
      assertThat(fleet.rackroll("env", "show", "production").out()).contains("after      staging",
          "strategy   batch=1, canary=0, healthGate=10m");

      // Not before staging.
      Fleet.Cli early = fleet.rackroll("promote", "web@1", "--to", "production");
      assertThat(early.exit()).isEqualTo(1);
      assertThat(early.err()).contains("web@1 has not been promoted to staging");
      Fleet.Cli noReason = fleet.rackroll("promote", "web@1", "--to", "production", "--force");
      assertThat(noReason.exit()).isEqualTo(2);
      assertThat(noReason.err()).contains("--force needs --reason TEXT");
      // Nor around the lifecycle: a plain deploy reaching production is refused, naming the way in.
      Fleet.Cli around = fleet.rackroll("deploy", "web@1", "--selector", "rack=r1");
      assertThat(around.exit()).isEqualTo(1);
      assertThat(around.err().strip()).isEqualTo("rackroll: web@1 would reach 1 host(s) of production, which takes"
          + " releases by promotion only (requirePromotion); promote it: rackroll promote web@1 --to production, or"
          + " deploy anyway (audited): --force --reason TEXT");
      assertThat(fleet.rackroll("deploy", "web@1", "--selector", "rack=r1", "--force").exit()).isEqualTo(2);

      Fleet.Cli staged = fleet.rackroll("promote", "web@1", "--to", "staging", "--watch");
      assertThat(staged.exit()).as(staged.toString()).isZero();
      assertThat(staging.current("web")).isEqualTo("1");

      // Completed in staging, but production's window is shut: refused with when it opens.
      Fleet.Cli shut = fleet.rackroll("promote", "web@1", "--to", "production");
      assertThat(shut.exit()).isEqualTo(1);
      assertThat(shut.err()).contains("production is outside its change windows (daily " + start + "-"
          + start.plusMinutes(30) + " UTC); it opens", "--override-window --reason TEXT");

      // In the window: one host per batch, ten minutes of health gate each.
      fleet.moveClock(opens.plusSeconds(60));
      Fleet.Cli promote = fleet.rackroll("promote", "web@1", "--to", "production");
      assertThat(promote.exit()).as(promote.toString()).isZero();
      String id = promote.out().split(" ")[2];
      String first = hostIn(fleet, id, 0);
      awaitHost(fleet, id, first, "ACTIVE");

      // The window closes during the first batch's gate: the rollout waits before the second batch.
      fleet.moveClock(opens.plus(Duration.ofMinutes(31)));
      awaitState(fleet, id, "waiting_window");
      Fleet.Agent second = first.equals(prod1.id()) ? prod2 : prod1;
      assertThat(second.phase("web")).as("no change outside the window").isEqualTo("none");
      Fleet.Cli resume = fleet.rackroll("deployment", "resume", id);
      assertThat(resume.exit()).isEqualTo(1);
      assertThat(resume.err()).contains("waits for a change window: production is outside its change windows",
          "rackroll deployment resume " + id + " --reason TEXT");

      // An admin goes ahead anyway, saying why.
      Fleet.Cli forced = fleet.rackroll("deployment", "resume", id, "--reason", "finish before the morning peak");
      assertThat(forced.exit()).as(forced.toString()).isZero();
      awaitHost(fleet, id, second.id(), "ACTIVE");
      fleet.moveClock(opens.plus(Duration.ofMinutes(45))); // past the second gate
      assertThat(fleet.awaitEnd(id)).contains(": completed");
      assertThat(fleet.rackroll("audit").out()).contains("finish before the morning peak", "wait for window");

      Fleet.Cli versions = fleet.rackroll("releases", "web");
      assertThat(versions.out()).containsPattern("1 +\\S+ +production 2, staging 1 +staging, production +- +-");
    }
  }

  private static String hostIn(Fleet fleet, String id, int batch) throws Exception {
    for (JsonNode h : fleet.deploymentJson(id).path("hosts")) {
      if (h.path("batch").asInt() == batch) {
        return h.path("agentId").asText();
      }
    }
    throw new AssertionError("no host in batch " + batch + " of " + id);
  }

  /** Polls the CLI: fine here, as each state waited for holds for minutes of the controller's clock. */
  private static void awaitHost(Fleet fleet, String id, String agent, String phase) {
    await(agent + " " + phase + " in " + id).atMost(Duration.ofSeconds(60)).pollInterval(Fleet.CLI_POLL).until(() -> {
      for (JsonNode h : fleet.deploymentJson(id).path("hosts")) {
        if (h.path("agentId").asText().equals(agent)) {
          return h.path("phase").asText().equals(phase);
        }
      }
      return false;
    });
  }

  private static void awaitState(Fleet fleet, String id, String state) {
    await(id + " " + state).atMost(Duration.ofSeconds(60)).pollInterval(Fleet.CLI_POLL)
        .until(() -> fleet.deploymentJson(id).path("state").asText().equals(state));
  }
}
