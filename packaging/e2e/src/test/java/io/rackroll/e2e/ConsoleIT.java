package io.rackroll.e2e;

import static io.rackroll.e2e.Fleet.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * The web console in a real browser against the built controller and real agents: an operator
 * signs in with a one-time link, watches a rollout live, approves its canary, rolls a rack back;
 * a viewer sees the same pages and is refused what its role may not do; an owner ends every
 * session. Screenshots of each page go to target/console.
 */
class ConsoleIT {
  @TempDir Path dir;

  @Test
  void anOperatorFollowsARolloutApprovesItsCanaryAndRollsARackBackAndAViewerMayOnlyLook() throws Exception {
    try (Fleet fleet = Fleet.start(dir, "web: 127.0.0.1:0")) {
      List<Fleet.Agent> agents = fleet.twoRacksOfTwo();
      fleet.web("1").push();
      assertThat(fleet.awaitEnd(fleet.deploy("web@1", "role=web", "--health-gate", "0s"))).contains(": completed");

      try (Console admin = Console.open(fleet, dir.resolve("browser-admin"))) {
        // 1. The admin signs in with a link from the CLI; the link works once.
        String link = ok(fleet.rackroll("web", "login")).out().strip();
        admin.signIn(link);
        assertThat(admin.find("#who").getText()).isEqualTo("admin (owner)");
        assertThat(admin.url()).doesNotContain("login="); // the secret left the address bar

        // 2. The fleet: both racks, each host one cell, all connected; coloured by the version of web.
        admin.awaitCount("section.rack", 2);
        admin.awaitCount("section.rack[data-rack='r1'] .cell.s-connected", 2);
        admin.awaitCount("section.rack[data-rack='r2'] .cell.s-connected", 2);
        assertThat(admin.find("#fleet-counts").getText()).isEqualTo("4 hosts: 4 connected");
        new Select(admin.find("#colour-by")).selectByValue("web");
        assertThat(admin.find("#legend").getText()).contains("web 1", "not installed");
        admin.screenshot("fleet");

        // 3. A rollout with a canary to approve, started from the CLI, followed live: no reload.
        fleet.web("2").push();
        admin.go("deployments");
        admin.awaitText("#none-running", t -> t.equals("Nothing is rolling out."));
        String d = fleet.deploy("web@2", "role=web", "--approve-after-canary", "--batch", "100%", "--health-gate", "1s");
        String card = ".deployment[data-id='" + d + "']";
        admin.awaitText(card + " h3 .state", "awaiting_approval"::equals);
        assertThat(admin.find(card + " .budget").getText()).isEqualTo("0 of 0 allowed");
        admin.screenshot("deployments");
        admin.click(card, "Approve");
        admin.awaitText("#history", t -> t.contains(d) && t.contains("completed"));
        assertThat(admin.all(card)).isEmpty(); // it left the running ones by itself
        assertThat(ok(fleet.rackroll("audit", "--who", "admin")).out()).contains("approve", d);
        for (Fleet.Agent a : agents) {
          assertThat(a.current("web")).as(a.name).isEqualTo("2");
        }

        // 4. Rack r2 misbehaves: the admin rolls it back from the fleet page, to 1.
        admin.go("fleet");
        admin.click("section.rack[data-rack='r2']", "Roll back rack…");
        new Select(admin.find("section.rack[data-rack='r2'] select[name=app]")).selectByValue("web");
        admin.find("section.rack[data-rack='r2'] input[name=to]").sendKeys("1");
        admin.click("section.rack[data-rack='r2'] .form", "Roll back");
        admin.awaitText("#deployment h3 .state", "completed"::equals);
        String rollback = admin.url().substring(admin.url().indexOf("#deployment/") + "#deployment/".length());
        assertThat(fleet.deployment(rollback)).contains("rollback", "rack=r2");
        for (Fleet.Agent a : agents) {
          assertThat(a.current("web")).as(a.name).isEqualTo(a.name.startsWith("r2") ? "1" : "2");
        }
        admin.screenshot("deployment");

        // The host page, the releases with where each version runs, and the audit of it all.
        admin.go("host/" + agents.get(2).id());
        admin.awaitText("#host-apps", t -> t.contains("web 1"));
        admin.screenshot("host");
        admin.go("audit");
        admin.find("#audit-who").sendKeys("admin");
        admin.awaitText("#audit-table", t -> t.contains("approve") && t.contains("rollback") && t.contains("web login"));
        admin.screenshot("audit");

        // 5. Environments: rack r1 is staging, r2 production, which may change only in a window
        //    that opens hours from now. A promotion from the releases page: to staging it runs, to
        //    production it is refused with when the window opens.
        LocalTime opens = LocalTime.now(ZoneOffset.UTC).plusHours(3).truncatedTo(ChronoUnit.MINUTES);
        Path environments = dir.resolve("environments.yaml");
        Files.writeString(environments, """
            lifecycle: [staging, production]
            environments:
              staging:
                selector: rack=r1
                strategy: {healthGate: 1s}
              production:
                selector: rack=r2
                windows:
                  - {days: daily, start: "OPENS", end: "CLOSES"}
            """.replace("OPENS", opens.toString()).replace("CLOSES", opens.plusMinutes(30).toString()));
        ok(fleet.rackroll("env", "apply", "-f", environments.toString()));
        admin.go("releases");
        admin.awaitText("#environments", t -> t.contains("production rack=r2 2 of 2 connected closed"));
        String v1 = ".versions[data-app='web'] tr[data-version='1']";
        admin.click(v1, "to staging");
        admin.awaitText("#deployment h3 .state", "completed"::equals);
        assertThat(admin.find("#deployment").getText()).contains("environment staging");
        admin.go("releases");
        admin.awaitText(v1, t -> t.contains("staging"));
        admin.click(v1, "to production");
        admin.awaitText("#message", t -> t.contains("production is outside its change windows"));
        admin.screenshot("releases");
      }

      // 5. A viewer sees the same pages; the buttons for what it may not do are off, and a call
      //    made anyway is refused and audited.
      Path vera = dir.resolve("vera");
      ok(fleet.rackroll("admin", "request", "vera", "--out", vera.toString()));
      ok(fleet.rackroll("admin", "add", "vera", "--role", "viewer", "--csr", vera.resolve("admin.csr").toString()));
      fleet.web("3").push();
      String d3 = fleet.deploy("web@3", "rack=r1", "--approve-after-canary", "--health-gate", "1s");
      try (Console viewer = Console.open(fleet, dir.resolve("browser-vera"))) {
        viewer.signIn(ok(fleet.rackroll("web", "login", "--credentials", vera.toString())).out().strip());
        assertThat(viewer.find("#who").getText()).isEqualTo("vera (viewer)");
        viewer.awaitCount("section.rack", 2);
        WebElement rollBack = viewer.button("section.rack[data-rack='r1']", "Roll back rack…");
        assertThat(rollBack.isEnabled()).isFalse();
        assertThat(rollBack.getAttribute("title")).isEqualTo("needs the operator role or above (you are viewer)");

        viewer.go("deployments");
        String card = ".deployment[data-id='" + d3 + "']";
        viewer.awaitText(card + " h3 .state", "awaiting_approval"::equals);
        assertThat(viewer.button(card, "Approve").isEnabled()).isFalse();
        Object refused = viewer.script("const done = arguments[arguments.length - 1];"
            + "fetch('/api/call/ControlDeployment', {method: 'POST', headers: {'Content-Type': 'application/json',"
            + " 'X-Rackroll-Csrf': S.me.csrf}, body: JSON.stringify({id: arguments[0], action: 'approve'})})"
            + ".then(r => r.json().then(j => done(r.status + ' ' + j.error)));", d3);
        assertThat(refused).isEqualTo("403 admin vera (viewer) may not call ControlDeployment: needs the deployer role or above");
        assertThat(ok(fleet.rackroll("audit", "--who", "vera")).out()).contains("refused", "ControlDeployment");
        assertThat(fleet.deployment(d3)).contains("awaiting_approval");

        // 6. An owner ends every session: the viewer's open page says so at once.
        assertThat(ok(fleet.rackroll("web", "logout", "--all")).out()).isEqualTo("2 sessions ended\n"); // the admin's and vera's
        viewer.awaitText("#main", t -> t.contains("Your session is over."));
      }
      ok(fleet.rackroll("deployment", "abort", d3, "--rollback"));
    }
  }
}
