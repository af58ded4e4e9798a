package io.rackroll.e2e;

import static io.rackroll.e2e.Fleet.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runtime flags on agent processes in two racks of production, driven through the CLI: a feature
 * turned on for one rack, then everywhere, each host's release reading it from flags.json and its
 * flagsChanged hook running; then a flag that breaks health on one host, which puts its own flags
 * back, spends the failure budget and has the controller put back the flags of the host that took
 * it before.
 */
class FlagsIT {
  @TempDir Path dir;

  @Test
  void aFlagGoesOnForOneRackThenEverywhereAndABreakingOneIsPutBack() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      Fleet.Agent r1 = fleet.startAgentWith("prod-r1", "env=prod,rack=r1");
      Fleet.Agent r2a = fleet.startAgentWith("prod-r2a", "env=prod,rack=r2");
      Fleet.Agent r2b = fleet.startAgentWith("prod-r2b", "env=prod,rack=r2");
      fleet.awaitConnected(3);
      Path file = dir.resolve("environments.yaml");
      Files.writeString(file, """
          lifecycle: [production]
          environments:
            production:
              selector: env=prod
              strategy: {canary: "1", batch: "1", maxFailures: "0", healthGate: 1s}
          """);
      ok(fleet.rackroll("env", "apply", "-f", file.toString()));
      // Healthy unless flag "broken" is on, except where the host tolerates it (a file beside the app).
      fleet.web("1")
          .hook("flagsChanged", "tr -d ' \\n' < flags.json >> ../../flags-seen; echo >> ../../flags-seen", "10s")
          .health("! grep -q '\"broken\" : true' flags.json || test -f ../../tolerates-broken")
          .push();
      ok(fleet.rackroll("promote", "web@1", "--to", "production", "--watch"));
      assertThat(r1.state.resolve("apps/web/current/flags.json")).hasContent("{}");

      // Bad input: a one-line error, nothing started.
      Fleet.Cli noValue = fleet.rackroll("flag", "set", "web", "checkout.v2", "--env", "production");
      assertThat(noValue.exit()).isNotZero();
      assertThat(noValue.err().strip()).isEqualTo("rackroll: flag \"checkout.v2\": expected NAME=VALUE, e.g."
          + " checkout.v2=true");
      Fleet.Cli noEnv = fleet.rackroll("flag", "set", "web", "checkout.v2=true", "--env", "prod");
      assertThat(noEnv.err().strip()).isEqualTo("rackroll: no environment \"prod\" (defined: production)");
      assertThat(fleet.rackroll("flags", "web").out()).doesNotContain("flags web");

      // One rack first.
      Fleet.Cli rack = ok(fleet.rackroll("flag", "set", "web", "checkout.v2=true", "--env", "production",
          "-l", "rack=r1", "--watch"));
      assertThat(rack.out()).contains("started flags", "web checkout.v2=true on 1 host(s)", "completed");
      assertThat(r1.state.resolve("apps/web/current/flags.json")).hasContent("{\n  \"checkout.v2\" : true\n}");
      assertThat(r1.state.resolve("apps/web/flags-seen")).hasContent("{\"checkout.v2\":true}");
      assertThat(r2a.state.resolve("apps/web/current/flags.json")).hasContent("{}");
      assertThat(fleet.rackroll("flags", "web").out())
          .containsPattern("production +" + r1.id() + " .*checkout.v2=true")
          .containsPattern("production +" + r2a.id() + " .*\\(none\\)");

      // Then everywhere: the rack that has it is left alone.
      Fleet.Cli all = ok(fleet.rackroll("flag", "set", "web", "checkout.v2=true", "--env", "production", "--watch"));
      assertThat(all.out()).contains("on 2 host(s)", "1 skipped");
      for (Fleet.Agent a : new Fleet.Agent[] {r1, r2a, r2b}) {
        assertThat(a.state.resolve("apps/web/current/flags.json")).hasContent("{\n  \"checkout.v2\" : true\n}");
      }

      // A flag that breaks health: rack r1 (the canary) tolerates it, r2's first host does not. That
      // host puts its own flags back; the budget (0) is spent, and the controller has r1 put its back.
      Files.writeString(r1.state.resolve("apps/web/tolerates-broken"), "");
      Fleet.Cli broken = fleet.rackroll("flag", "set", "web", "broken=true", "--env", "production", "--watch");
      assertThat(broken.exit()).as(broken.toString()).isNotZero();
      assertThat(broken.out()).contains("rolled_back", "[health_failed]", "flags put back");
      for (Fleet.Agent a : new Fleet.Agent[] {r1, r2a, r2b}) {
        assertThat(a.state.resolve("apps/web/current/flags.json")).as(a.id())
            .hasContent("{\n  \"checkout.v2\" : true\n}");
      }
      assertThat(r1.state.resolve("apps/web/flags-seen")).content()
          .endsWith("{\"broken\":true,\"checkout.v2\":true}\n{\"checkout.v2\":true}\n");

      // Every change is on record: who, where, what, how it ended.
      Fleet.Cli history = ok(fleet.rackroll("flags", "web", "--env", "production"));
      assertThat(history.out()).containsPattern("production +env=prod,rack=r1 +checkout.v2=true +completed")
          .containsPattern("production +env=prod +checkout.v2=true +completed")
          .containsPattern("production +env=prod +broken=true +rolled_back \\(failure budget spent");
      assertThat(ok(fleet.rackroll("audit")).out()).contains("web flags broken=true on \"env=prod\" in production",
          "rolled_back");

      // A host new to production starts with production's flags: what the completed change to all of
      // it left, not the one put back.
      Fleet.Agent r3 = fleet.startAgentWith("prod-r3", "env=prod,rack=r3");
      fleet.awaitConnected(4);
      assertThat(ok(fleet.rackroll("promote", "web@1", "--to", "production", "--watch")).out())
          .contains("on 1 host(s)", "3 skipped");
      assertThat(r3.state.resolve("apps/web/current/flags.json")).hasContent("{\n  \"checkout.v2\" : true\n}");
      assertThat(ok(fleet.rackroll("flags", "web")).out())
          .containsPattern("production +" + r3.id() + " .*checkout.v2=true")
          .containsPattern("(?m)^production +checkout.v2=true$");

      // Unset everywhere: gone from every host and from what the next new host starts with.
      ok(fleet.rackroll("flag", "unset", "web", "checkout.v2", "--env", "production", "--watch"));
      for (Fleet.Agent a : new Fleet.Agent[] {r1, r2a, r2b, r3}) {
        assertThat(a.state.resolve("apps/web/current/flags.json")).as(a.id()).hasContent("{ }");
      }
      assertThat(ok(fleet.rackroll("flags", "web")).out()).containsPattern("(?m)^production +\\(none\\)$");
    }
  }
}
