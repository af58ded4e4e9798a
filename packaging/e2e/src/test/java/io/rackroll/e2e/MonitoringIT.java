package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard and the Prometheus alert rules the controller package ships: promtool
 * accepts the rules and their unit tests pass, and every Rackroll metric they name is one a live
 * controller exports, scraped in the middle of a deployment to two racks.
 */
class MonitoringIT {
  private static final Path MONITORING = Path.of(System.getProperty("rackroll.package.sources"), "monitoring");
  private static final Path RULES = MONITORING.resolve("rackroll-alerts.yml");
  private static final Path DASHBOARD = MONITORING.resolve("rackroll-dashboard.json");
  private static final Pattern METRIC = Pattern.compile("\\brackroll_[a-z0-9_]+");

  @TempDir Path dir;

  @Test
  void rulesPassPromtoolAndTheirUnitTests() throws Exception {
    assumeTrue(Cmd.run("sh", "-c", "command -v promtool").exit() == 0,
        "needs promtool (Debian's prometheus package; .ci/run installs it)");
    Cmd check = Cmd.run("promtool", "check", "rules", RULES.toString());
    assertThat(check.exit()).as(check.toString()).isZero();
    Files.copy(RULES, dir.resolve("rackroll-alerts.yml"));
    Files.copy(Path.of(getClass().getResource("/monitoring/rackroll-alerts-test.yml").toURI()),
        dir.resolve("rackroll-alerts-test.yml"));
    Cmd tests = Cmd.run("promtool", "test", "rules", dir.resolve("rackroll-alerts-test.yml").toString());
    assertThat(tests.exit()).as(tests.toString()).isZero();
  }

  @Test
  void everyMetricTheDashboardAndRulesNameIsOneTheControllerExports() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    assertThat(dashboard.path("__inputs").get(0).path("pluginId").asText()).isEqualTo("prometheus");
    List<String> exprs = dashboard.findValues("expr").stream().map(JsonNode::asText).toList();
    assertThat(exprs).as("panels with queries").hasSizeGreaterThan(15);
    Set<String> named = new TreeSet<>(names(String.join("\n", exprs)));
    named.addAll(names(Files.readString(RULES)));

    try (Fleet fleet = Fleet.start(dir)) {
      fleet.startAgentWith("a1", "rack=r1");
      fleet.startAgentWith("a2", "rack=r2");
      fleet.awaitConnected(2);
      fleet.web("1").healthyAfter(1).push();
      // One batch done, the next held by an hour's gate: a deployment in flight, hosts in phases.
      String id = fleet.deploy("web@1", "rack in (r1,r2)", "--batch", "1", "--canary", "0", "--health-gate", "1h");
      await().atMost(Duration.ofMinutes(2)).pollInterval(Fleet.CLI_POLL).until(
          () -> fleet.deployment(id).contains("ACTIVE"));
      // The meters counted from the store catch up within their refresh (ControllerMetrics.REFRESH).
      String scraped = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
          .until(fleet::metrics, m -> m.contains("rackroll_deployment_hosts{") && m.contains("rackroll_apps_unhealthy{"));
      Set<String> exported = scraped.lines().filter(l -> !l.startsWith("#") && !l.isBlank())
          .map(l -> l.split("[{ ]", 2)[0]).collect(Collectors.toCollection(TreeSet::new));
      assertThat(exported).as("what the controller exports").containsAll(named);
      assertThat(scraped).contains("rackroll_rack_agents{rack=\"r1\",state=\"connected\"} 1.0")
          .contains("rackroll_rack_agents{rack=\"r2\",state=\"connected\"} 1.0");
      assertThat(scraped).containsPattern("rackroll_controller_certificate_expiry_seconds\\{certificate=\"server\"} [0-9.E]+")
          .containsPattern("rackroll_agent_certificate_expiry_min_seconds [0-9.E]+");
    }
  }

  private static Set<String> names(String text) {
    Set<String> out = new TreeSet<>();
    Matcher m = METRIC.matcher(text);
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }
}
