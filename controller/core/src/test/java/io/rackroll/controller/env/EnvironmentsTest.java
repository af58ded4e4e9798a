package io.rackroll.controller.env;

import static io.rackroll.controller.testing.WireFleet.activate;
import static io.rackroll.controller.testing.WireFleet.command;
import static io.rackroll.controller.testing.WireFleet.report;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rackroll.controller.fleet.LinkSettings;
import io.rackroll.controller.testing.RawAgent;
import io.rackroll.controller.testing.TestController;
import io.rackroll.controller.testing.WireFleet;
import io.rackroll.proto.v1.ApplyEnvironmentsRequest;
import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.FlagsUpdate;
import io.rackroll.proto.v1.GetFlagsRequest;
import io.rackroll.proto.v1.HostFlags;
import io.rackroll.proto.v1.ReconfigureRequest;
import io.rackroll.proto.v1.Rollback;
import io.rackroll.proto.v1.SetFlags;
import io.rackroll.proto.v1.SetFlagsRequest;
import io.rackroll.proto.v1.AuditRecord;
import io.rackroll.proto.v1.ControlDeploymentRequest;
import io.rackroll.proto.v1.DeployRequest;
import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.proto.v1.PlanRequest;
import io.rackroll.proto.v1.EnvironmentDiffRequest;
import io.rackroll.proto.v1.EnvironmentDiffResponse;
import io.rackroll.proto.v1.EnvironmentRecord;
import io.rackroll.proto.v1.StaleHost;
import io.rackroll.proto.v1.EnvironmentsRecord;
import io.rackroll.proto.v1.GetEnvironmentsRequest;
import io.rackroll.proto.v1.ListAuditRequest;
import io.rackroll.proto.v1.PromoteRequest;
import io.rackroll.proto.v1.ReleaseHistoryRequest;
import io.rackroll.proto.v1.RollbackRequest;
import io.rackroll.proto.v1.SetSecretRequest;
import io.rackroll.proto.v1.Deploy;
import io.rackroll.proto.v1.VersionPlacement;
import io.rackroll.release.Artifact;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Environments against a real controller on a clock the test moves, hosts played at the wire:
 * overlaps, the promotion rule, where each version stands, and change windows (refused outside,
 * a pause between batches at the window's end, the resume when it opens again).
 */
class EnvironmentsTest {
  @TempDir Path dir;
  private TestController controller;
  private WireFleet hosts;
  private RawAgent.Stream staging;
  private RawAgent.Stream prod1;
  private RawAgent.Stream prod2;

  @BeforeEach
  void start() throws Exception {
    // Hosts are played at the wire and send no heartbeats while the test moves the clock by hours:
    // they must not look silent, which would fail them in their health gates.
    controller = TestController.start(dir.resolve("data"), new LinkSettings(Duration.ofMillis(200), Duration.ofDays(2),
        256));
    hosts = new WireFleet(controller);
    for (String version : new String[] {"1", "2", "3"}) {
      Path src = Files.createDirectories(dir.resolve("web-" + version));
      Files.writeString(src.resolve("rackroll.yaml"), "name: web\nversion: \"" + version + "\"\n");
      Artifact.pack(src, dir.resolve("web-" + version + ".tar.gz"));
      controller.push(dir.resolve("web-" + version + ".tar.gz"));
    }
    staging = hosts.connect("ag-s1", Map.of("rack", "r1", "env", "staging"));
    prod1 = hosts.connect("ag-p1", Map.of("rack", "r1", "env", "prod"));
    prod2 = hosts.connect("ag-p2", Map.of("rack", "r2", "env", "prod"));
    controller.clock.advance(Duration.ofSeconds(5)); // past the reconnect grace
  }

  @AfterEach
  void stop() {
    controller.close();
  }

  private EnvironmentsRecord apply(String yaml) {
    return controller.admin().applyEnvironments(ApplyEnvironmentsRequest.newBuilder().setYaml(yaml)
        .setFileName("envs.yaml").build());
  }

  private DeploymentRecord promote(String version, String env) {
    return controller.admin().promote(PromoteRequest.newBuilder().setName("web").setVersion(version)
        .setEnvironment(env).build());
  }

  private static String refusal(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
      return e.getStatus().getDescription();
    }
    throw new AssertionError("not refused");
  }

  private List<AuditRecord> audit() {
    return controller.admin().listAudit(ListAuditRequest.getDefaultInstance()).getEntriesList();
  }

  private static final String TWO = """
      lifecycle: [staging, production]
      environments:
        staging:
          selector: env=staging
          strategy: {healthGate: 0s}
        production:
          selector: env=prod
          strategy: {canary: "0", batch: "1", healthGate: 0s}
      """;

  @Test
  void anAgentInTwoEnvironmentsIsRefusedByNameAndNothingChanges() {
    String overlapping = TWO.replace("selector: env=prod", "selector: rack in (r1, r2)");
    String why = refusal(() -> apply(overlapping));
    assertThat(why).isEqualTo("envs.yaml: 1 agent(s) would belong to more than one environment: ag-s1 (staging,"
        + " production); make the selectors exclusive (e.g. env=staging, env=prod)");
    assertThat(controller.admin().getEnvironments(GetEnvironmentsRequest.getDefaultInstance()).getVersion()).isZero();

    EnvironmentsRecord applied = apply(TWO);
    assertThat(applied.getVersion()).isEqualTo(1);
    assertThat(applied.getEnvironmentsList()).extracting(EnvironmentRecord::getName, EnvironmentRecord::getAgents)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("staging", 1), org.assertj.core.groups.Tuple.tuple(
            "production", 2));
    assertThat(applied.getEnvironments(1).getPrevious()).isEqualTo("staging");
    assertThat(apply(TWO).getVersion()).as("every apply is a new version").isEqualTo(2);
    assertThat(audit()).anyMatch(a -> a.getAction().equals("env apply")
        && a.getDetail().equals("version 2: staging, production; lifecycle staging -> production"));
  }

  @Test
  void anAgentEnrolledIntoTwoEnvironmentsLaterIsNeitherDeployedToNorConfigured() throws Exception {
    apply(TWO.replace("selector: env=prod", "selector: rack=r2"));
    hosts.connect("ag-x", Map.of("rack", "r2", "env", "staging"));
    assertThat(refusal(() -> promote("1", "staging"))).isEqualTo("1 selected agent(s) belong to more than one"
        + " environment: ag-x (staging, production); make the selectors exclusive and apply the environments file again");
    // Rollbacks always go ahead.
    DeploymentRecord back = controller.admin().rollback(RollbackRequest.newBuilder().setName("web")
        .setSelector("env=staging").build());
    assertThat(back.getKind()).isEqualTo("rollback");
  }

  @Test
  void aReleaseReachesProductionOnlyAfterItCompletedInStaging() throws Exception {
    apply(TWO);
    assertThat(refusal(() -> promote("1", "production"))).isEqualTo("web@1 has not been promoted to staging (before"
        + " production in the lifecycle); promote it there first: rackroll promote web@1 --to staging;"
        + " to promote anyway (audited): --force --reason TEXT");
    assertThat(refusal(() -> promote("1", "qa"))).isEqualTo("no environment \"qa\" (defined: staging, production)");

    // A failed attempt in staging: production stays shut, and says why.
    DeploymentRecord first = promote("1", "staging");
    assertThat(first.getEnvironment()).isEqualTo("staging");
    assertThat(first.getSelector()).isEqualTo("env=staging");
    report(staging, command(staging), "FAILED", "hook", "postInstall exited 1");
    assertThat(hosts.awaitEnd(first.getId()).getState()).as("nothing changed, nothing rolled back").isEqualTo("failed");
    assertThat(refusal(() -> promote("1", "production"))).isEqualTo("web@1 has not completed in staging; last attempt"
        + " failed on 1 of 1 hosts (deployment " + first.getId() + "); to promote anyway (audited): --force --reason TEXT");

    // Completed in staging: production takes it, with production's strategy (one host per batch).
    DeploymentRecord second = promote("1", "staging");
    activate(staging);
    assertThat(hosts.awaitEnd(second.getId()).getState()).isEqualTo("completed");
    DeploymentRecord prod = promote("1", "production");
    assertThat(prod.getBatches()).isEqualTo(2);
    assertThat(prod.getOptionsMap()).containsEntry("batch", "1").containsEntry("canary", "0");
    activate(prod1);
    activate(prod2);
    assertThat(hosts.awaitEnd(prod.getId()).getState()).isEqualTo("completed");

    // Forced past the rule: it goes, and the audit says who, why and what was overridden.
    DeploymentRecord forced = controller.admin().promote(PromoteRequest.newBuilder().setName("web").setVersion("2")
        .setEnvironment("production").setForceReason("hotfix for INC-42").build());
    assertThat(audit()).anyMatch(a -> a.getAction().equals("promote --force") && a.getTarget().equals(forced.getId())
        && a.getDetail().equals("web@2 to production although: web@2 has not been promoted to staging (before"
            + " production in the lifecycle); promote it there first: rackroll promote web@2 --to staging;"
            + " reason: hotfix for INC-42"));
    report(prod1, command(prod1), "FAILED", "hook", "activate exited 3", "1"); // the host went back to 1 itself
    assertThat(hosts.awaitEnd(forced.getId()).getState()).isEqualTo("failed");

    // Where each version stands.
    List<VersionPlacement> history = controller.admin().releaseHistory(ReleaseHistoryRequest.newBuilder()
        .setName("web").build()).getVersionsList();
    VersionPlacement v1 = history.stream().filter(v -> v.getRelease().getVersion().equals("1")).findFirst().orElseThrow();
    assertThat(v1.getRunningMap()).containsExactlyInAnyOrderEntriesOf(Map.of("staging", 1, "production", 2));
    assertThat(v1.getCompletedList()).containsExactlyInAnyOrder("staging", "production");
    assertThat(v1.getFailedList()).isEmpty();
    VersionPlacement v2 = history.stream().filter(v -> v.getRelease().getVersion().equals("2")).findFirst().orElseThrow();
    assertThat(v2.getFailedList()).containsExactly("production");
    assertThat(v2.getRunningMap()).isEmpty();
  }

  @Test
  void aDeployerLimitedToStagingChangesStagingAndNothingElse() throws Exception {
    apply(TWO);
    assertThat(refusal(() -> controller.addAdmin("sam", "deployer", "qa"))).isEqualTo("no environment \"qa\""
        + " (defined: staging, production)");
    assertThat(refusal(() -> controller.addAdmin("sam", "deployer", "../" + "x".repeat(10_000))))
        .startsWith("environment: ../xxx").hasSizeLessThan(300).doesNotContain("\n");
    assertThat(refusal(() -> controller.addAdmin("sam", "operator", "staging"))).isEqualTo("--env limits a deployer"
        + " only: a viewer reads every environment, an operator or owner changes them all");
    var sam = controller.addAdmin("sam", "deployer", "staging");
    assertThat(controller.admin().listAdmins(io.rackroll.proto.v1.ListAdminsRequest.getDefaultInstance())
        .getAdminsList()).filteredOn(a -> a.getName().equals("sam")).singleElement()
        .satisfies(a -> assertThat(a.getEnvironmentsList()).containsExactly("staging"));

    // Staging: promote, deploy, flags, control of its own deployment.
    DeploymentRecord inStaging = sam.promote(PromoteRequest.newBuilder().setName("web").setVersion("1")
        .setEnvironment("staging").build());
    assertThat(sam.controlDeployment(ControlDeploymentRequest.newBuilder().setId(inStaging.getId()).setAction("pause")
        .build()).getState()).isEqualTo("paused");
    sam.controlDeployment(ControlDeploymentRequest.newBuilder().setId(inStaging.getId()).setAction("resume").build());
    activate(staging);
    assertThat(hosts.awaitEnd(inStaging.getId()).getState()).isEqualTo("completed");

    // Production, by any way in: refused with the environments named; nothing starts.
    String why = "web@1 would reach 2 host(s) of production, but you may change only staging; narrow the selector to"
        + " those environments, or ask an operator";
    assertThat(denied(() -> sam.promote(PromoteRequest.newBuilder().setName("web").setVersion("1")
        .setEnvironment("production").build()))).isEqualTo(why);
    assertThat(denied(() -> sam.deploy(DeployRequest.newBuilder().setName("web").setVersion("2").setSelector("rack=r1")
        .build()))).isEqualTo("web@2 would reach 1 host(s) of production, but you may change only staging; narrow the"
            + " selector to those environments, or ask an operator");
    assertThat(denied(() -> sam.setFlags(SetFlagsRequest.newBuilder().setApp("web").setEnvironment("production")
        .putChanges("checkout.v2", "true").build()))).isEqualTo("web flags checkout.v2=true would reach 2 host(s) of"
            + " production, but you may change only staging; narrow the selector to those environments, or ask an"
            + " operator");
    DeploymentRecord inProduction = promote("1", "production");
    assertThat(denied(() -> sam.controlDeployment(ControlDeploymentRequest.newBuilder().setId(inProduction.getId())
        .setAction("abort").build()))).isEqualTo("deployment " + inProduction.getId() + " has hosts in production, but"
            + " you may change only staging; ask an operator");
    assertThat(controller.admin().getDeployment(io.rackroll.proto.v1.GetDeploymentRequest.newBuilder()
        .setId(inProduction.getId()).build()).getState()).isEqualTo("running");
    assertThat(controller.admin().listDeployments(io.rackroll.proto.v1.ListDeploymentsRequest.getDefaultInstance())
        .getDeploymentsList()).extracting(DeploymentRecord::getCreatedBy).containsOnly("sam", "admin");
    assertThat(controller.admin().listAudit(ListAuditRequest.newBuilder().setWho("sam").build()).getEntriesList())
        .filteredOn(a -> a.getAction().equals("refused")).extracting(AuditRecord::getTarget)
        .containsExactlyInAnyOrder("web@1", "web@2", "web flags checkout.v2=true", inProduction.getId());
  }

  private static String denied(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isIn(Status.Code.FAILED_PRECONDITION, Status.Code.PERMISSION_DENIED);
      return e.getStatus().getDescription();
    }
    throw new AssertionError("not refused");
  }

  @Test
  void aPlainDeployReachingAnEnvironmentThatRequiresPromotionIsRefusedUnlessForced() throws Exception {
    apply(TWO.replace("strategy: {canary: \"0\", batch: \"1\", healthGate: 0s}",
        "strategy: {canary: \"0\", batch: \"1\", healthGate: 0s}\n    requirePromotion: true"));

    // Staging takes a plain deploy; a deploy that reaches production hosts is refused, by name.
    DeploymentRecord toStaging = deploy("1", "env=staging", "");
    activate(staging);
    assertThat(hosts.awaitEnd(toStaging.getId()).getState()).isEqualTo("completed");
    assertThat(refusal(() -> deploy("2", "rack=r1", ""))).isEqualTo("web@2 would reach 1 host(s) of production,"
        + " which takes releases by promotion only (requirePromotion); promote it: rackroll promote web@2 --to"
        + " production, or deploy anyway (audited): --force --reason TEXT");
    // Refused although 1 completed in staging: production is reached through promote, which applies its strategy.
    assertThat(refusal(() -> deploy("1", "env=prod", ""))).startsWith("web@1 would reach 2 host(s) of production");
    assertThat(controller.admin().plan(PlanRequest.newBuilder().setDeploy(DeployRequest.newBuilder().setName("web")
        .setVersion("2").setSelector("env=prod")).build()).getBatchesCount()).as("plan shows; only a start refuses")
        .isEqualTo(2);

    // A rollback is a way back, never refused; forced, a deploy goes, and the audit says who and why.
    DeploymentRecord forced = deploy("2", "env=prod", "INC-7: hotfix");
    assertThat(audit()).anyMatch(a -> a.getAction().equals("deploy --force") && a.getTarget().equals(forced.getId())
        && a.getDetail().equals("web@2 although: web@2 would reach 2 host(s) of production, which takes releases by"
            + " promotion only (requirePromotion); promote it: rackroll promote web@2 --to production; reason: INC-7:"
            + " hotfix"));
    activate(prod1);
    activate(prod2);
    assertThat(hosts.awaitEnd(forced.getId()).getState()).isEqualTo("completed");
    DeploymentRecord back = controller.admin().rollback(RollbackRequest.newBuilder().setName("web")
        .setSelector("env=prod").build());
    assertThat(back.getKind()).isEqualTo("rollback");

    // requirePromotion outside the lifecycle could never be met: the file is refused.
    assertThat(refusal(() -> apply(TWO.replace("lifecycle: [staging, production]", "lifecycle: [staging]")
        .replace("strategy: {canary: \"0\", batch: \"1\", healthGate: 0s}",
            "strategy: {canary: \"0\", batch: \"1\", healthGate: 0s}\n    requirePromotion: true"))))
        .isEqualTo("envs.yaml line 9: production.requirePromotion: production is not in the lifecycle, so nothing"
            + " could ever be promoted to it; add it to \"lifecycle\"");
    assertThat(refusal(() -> apply(TWO.replace("strategy: {healthGate: 0s}", "strategy: {healthGate: 0s}\n"
        + "    requirePromotion: yes")))).isEqualTo("envs.yaml line 6: staging.requirePromotion: \"yes\" (expected"
            + " true or false)");
  }

  private DeploymentRecord deploy(String version, String selector, String force) {
    return controller.admin().deploy(DeployRequest.newBuilder().setName("web").setVersion(version)
        .setSelector(selector).setForceReason(force).putOptions("healthGate", "0s").build());
  }

  @Test
  void eachHostGetsItsOwnEnvironmentsVariablesAndSecretsAndNothingShowsASecret() throws Exception {
    apply(TWO.replace("strategy: {healthGate: 0s}", "strategy: {healthGate: 0s}\n    variables: {greeting: hi staging}")
        .replace("strategy: {canary: \"0\", batch: \"1\", healthGate: 0s}",
            "strategy: {canary: \"0\", batch: \"2\", healthGate: 0s}\n    variables: {greeting: hi production}"));
    setSecret("staging", "db.password", "staging-pw-1");
    setSecret("production", "db.password", "prod-pw-2");
    assertThat(refusal(() -> setSecret("production", "greeting", "x"))).isEqualTo("greeting is a plain variable of"
        + " production in the environments file; remove it there first, so the value lives in one place");
    assertThat(refusal(() -> setSecret("qa", "x", "y"))).isEqualTo("no environment \"qa\" (defined: staging,"
        + " production)");

    promote("1", "staging");
    Deploy toStaging = activate(staging);
    assertThat(toStaging.getEnvironment()).isEqualTo("staging");
    assertThat(toStaging.getVariablesMap()).containsExactlyInAnyOrderEntriesOf(
        Map.of("greeting", "hi staging", "db.password", "staging-pw-1"));
    DeploymentRecord prod = controller.admin().promote(PromoteRequest.newBuilder().setName("web").setVersion("1")
        .setEnvironment("production").setForceReason("test").build());
    for (RawAgent.Stream host : List.of(prod1, prod2)) {
      Deploy toProd = activate(host);
      assertThat(toProd.getVariablesMap()).containsExactlyInAnyOrderEntriesOf(
          Map.of("greeting", "hi production", "db.password", "prod-pw-2"));
    }
    hosts.awaitEnd(prod.getId());
    assertThat(diff("").getStaleList()).isEmpty();
    assertThat(diff("").getCurrent()).isEqualTo(3);

    // A changed value changes no host by itself: env diff names the hosts running with the old one.
    setSecret("production", "db.password", "prod-pw-3");
    EnvironmentDiffResponse stale = diff("");
    assertThat(stale.getStaleList()).extracting(StaleHost::getAgentId).containsExactlyInAnyOrder("ag-p1", "ag-p2");
    assertThat(stale.getStale(0).getWhy()).isEqualTo("installed with earlier values of production's variables or"
        + " secrets");
    assertThat(stale.toString()).doesNotContain("prod-pw");
    assertThat(diff("staging").getStaleList()).isEmpty();
    assertThat(refusal(() -> diff("qa"))).isEqualTo("no environment \"qa\" (defined: staging, production)");

    // Shown by name only; never in the audit; sealed in the store.
    EnvironmentsRecord shown = controller.admin().getEnvironments(GetEnvironmentsRequest.getDefaultInstance());
    assertThat(shown.toString()).contains("db.password").doesNotContain("prod-pw-2", "staging-pw-1");
    assertThat(audit()).anyMatch(a -> a.getAction().equals("secret set") && a.getTarget().equals("production/db.password"))
        .allMatch(a -> !a.toString().contains("prod-pw-2"));
  }

  private EnvironmentDiffResponse diff(String env) {
    return controller.admin().environmentDiff(EnvironmentDiffRequest.newBuilder().setEnvironment(env).build());
  }

  private void setSecret(String env, String name, String value) {
    controller.admin().setSecret(SetSecretRequest.newBuilder().setEnvironment(env).setName(name).setValue(value)
        .build());
  }

  @Test
  void productionChangesOnlyInItsWindowAndARolloutWaitsBetweenBatchesWhenItCloses() throws Exception {
    // A daily half-hour window starting a few minutes from now on the test's clock.
    Instant opens = controller.clock.instant().plus(Duration.ofMinutes(5)).truncatedTo(ChronoUnit.MINUTES);
    LocalTime start = LocalTime.ofInstant(opens, ZoneOffset.UTC);
    String yaml = TWO.replace("production:\n", "production:\n    windows:\n      - {days: daily, start: \""
        + start + "\", end: \"" + start.plusMinutes(30) + "\"}\n");
    EnvironmentsRecord applied = apply(yaml);
    EnvironmentRecord production = applied.getEnvironments(1);
    assertThat(production.getOpen()).isFalse();
    assertThat(production.getNextOpenEpochMillis()).isEqualTo(opens.toEpochMilli());

    // Through staging first (any time: it has no windows).
    DeploymentRecord staged = promote("1", "staging");
    activate(staging);
    hosts.awaitEnd(staged.getId());

    String window = "daily " + start + "-" + start.plusMinutes(30) + " UTC";
    Schedule shown = new Schedule(List.of(), List.of(), java.time.ZoneId.of("UTC"));
    assertThat(refusal(() -> promote("1", "production"))).isEqualTo("production is outside its change windows ("
        + window + "); it opens " + shown.show(opens) + "; to deploy now anyway (audited): --override-window --reason TEXT");
    // A plain deploy to production's hosts keeps to the same window.
    assertThat(refusal(() -> controller.admin().deploy(DeployRequest.newBuilder().setName("web").setVersion("1")
        .setSelector("rack=r2").build()))).startsWith("production is outside its change windows");

    // Inside the window it starts; the window closes during the first batch's gate.
    controller.clock.advance(Duration.between(controller.clock.instant(), opens.plusSeconds(60)));
    DeploymentRecord d = controller.admin().promote(PromoteRequest.newBuilder().setName("web").setVersion("1")
        .setEnvironment("production").putOptions("healthGate", "1m").build());
    activate(prod1);
    hosts.awaitHost(d.getId(), "ag-p1", "ACTIVE");
    controller.clock.advance(Duration.ofMinutes(30)); // past the end of the window, and of the gate
    DeploymentRecord waiting = hosts.awaitState(d.getId(), "waiting_window");
    Instant tomorrow = opens.plus(Duration.ofDays(1));
    assertThat(waiting.getReason()).isEqualTo("waits for a change window: production is outside its change windows ("
        + window + "); it opens " + shown.show(tomorrow));
    assertThat(hosts.host(d.getId(), "ag-p2").getPhase()).as("never started outside the window").isEqualTo("PENDING");
    assertThat(refusal(() -> controller.admin().controlDeployment(ControlDeploymentRequest.newBuilder()
        .setId(d.getId()).setAction("resume").build()))).isEqualTo("deployment " + d.getId() + " " + waiting.getReason()
        + "; to go ahead now, outside the window (audited): rackroll deployment resume " + d.getId() + " --reason TEXT");

    // Rollbacks are always allowed.
    DeploymentRecord back = controller.admin().rollback(RollbackRequest.newBuilder().setName("web")
        .setSelector("env=staging").build());
    assertThat(back.getState()).isNotEqualTo("waiting_window");

    // The next day's window opens: the rollout goes on by itself.
    controller.clock.advance(Duration.between(controller.clock.instant(), tomorrow));
    activate(prod2);
    hosts.awaitHost(d.getId(), "ag-p2", "ACTIVE");
    controller.clock.advance(Duration.ofMinutes(2)); // its gate
    assertThat(hosts.awaitEnd(d.getId()).getState()).isEqualTo("completed");
    assertThat(audit()).anyMatch(a -> a.getAction().equals("wait for window") && a.getTarget().equals(d.getId()))
        .anyMatch(a -> a.getAction().equals("resume") && a.getDetail().equals("change window open"));
  }

  @Test
  void anAdminMayGoAheadOutsideTheWindowWithAReason() throws Exception {
    Instant opens = controller.clock.instant().plus(Duration.ofHours(2)).truncatedTo(ChronoUnit.MINUTES);
    LocalTime start = LocalTime.ofInstant(opens, ZoneOffset.UTC);
    apply("environments:\n  production:\n    selector: env=prod\n    strategy: {canary: \"0\", batch: \"1\","
        + " healthGate: 0s}\n    windows:\n      - {days: daily, start: \"" + start + "\", end: \""
        + start.plusMinutes(30) + "\"}\n");
    DeploymentRecord d = controller.admin().deploy(DeployRequest.newBuilder().setName("web").setVersion("3")
        .setSelector("env=prod").putOptions("canary", "0").putOptions("batch", "1").putOptions("healthGate", "0s")
        .setOverrideWindowReason("security fix CVE-2026-1234").build());
    assertThat(d.getWindowOverride()).isEqualTo("security fix CVE-2026-1234");
    activate(prod1);
    activate(prod2); // the second batch starts too: the override holds to the end
    assertThat(hosts.awaitEnd(d.getId()).getState()).isEqualTo("completed");
    assertThat(audit()).anyMatch(a -> a.getTarget().equals(d.getId())
        && a.getDetail().endsWith("; outside change windows: security fix CVE-2026-1234"));
  }

  private DeploymentRecord reconfigure(String env) {
    return controller.admin().reconfigure(ReconfigureRequest.newBuilder().setName("web").setEnvironment(env).build());
  }

  /** The host's next command of {@code kind}, skipping others. */
  private static Command next(RawAgent.Stream s, Command.KindCase kind) throws InterruptedException {
    while (true) {
      var m = s.next();
      if (m.hasCommand() && m.getCommand().getKindCase() == kind) {
        return m.getCommand();
      }
    }
  }

  @Test
  void aReconfigureRedeploysTheRunningVersionWithTodaysValuesAndItsRevertNamesTheEarlierOnes() throws Exception {
    String yaml = TWO.replace("strategy: {canary: \"0\", batch: \"1\", healthGate: 0s}",
        "strategy: {canary: \"0\", batch: \"1\", healthGate: 0s, maxFailures: \"0\"}\n    variables: {greeting: v1}");
    apply(yaml);
    assertThat(refusal(() -> reconfigure("production"))).isEqualTo("web runs on no host of production; promote a"
        + " release there first ('rackroll promote web@VERSION --to production')");
    assertThat(refusal(() -> reconfigure("qa"))).isEqualTo("no environment \"qa\" (defined: staging, production)");
    DeploymentRecord first = controller.admin().promote(PromoteRequest.newBuilder().setName("web").setVersion("1")
        .setEnvironment("production").setForceReason("test").build());
    Deploy before = activate(prod1);
    activate(prod2);
    hosts.awaitEnd(first.getId());

    // Nothing changed: every host is left alone.
    assertThat(reconfigure("production").getHostsList()).extracting(h -> h.getFailure()).containsOnly(
        "already runs web@1 with its environment's values");

    apply(yaml.replace("greeting: v1", "greeting: v2"));
    DeploymentRecord r = reconfigure("production");
    assertThat(r.getKind()).isEqualTo("reconfigure");
    assertThat(r.getVersion()).isEqualTo("1");
    Deploy again = command(prod1);
    assertThat(again.getVersion()).isEqualTo("1");
    assertThat(again.getVariablesMap()).containsEntry("greeting", "v2");
    assertThat(again.getConfigDigest()).isNotEqualTo(before.getConfigDigest());
    report(prod1, again, "ACTIVE");
    Deploy broken = command(prod2);
    report(prod2, broken, "ROLLED_BACK", "health_failed", "web@1 (reconfigured) not healthy; rolled back to 1", "");

    // The budget is spent: the host that took the new values is sent back to the same version with the old ones.
    Rollback revert = next(prod1, Command.KindCase.ROLLBACK).getRollback();
    assertThat(revert.getToVersion()).isEqualTo("1");
    assertThat(revert.getConfigDigest()).isEqualTo(before.getConfigDigest());
    prod1.send(io.rackroll.proto.v1.AgentMessage.newBuilder().setJob(io.rackroll.proto.v1.JobUpdate.newBuilder()
        .setDeploymentId(revert.getDeploymentId()).setApp("web").setVersion("1").setPhase("ACTIVE")
        .setCurrentVersion("1").setCurrentConfigDigest(before.getConfigDigest())
        .setAtEpochMillis(System.currentTimeMillis())).build());
    DeploymentRecord ended = hosts.awaitEnd(r.getId());
    assertThat(ended.getState()).isEqualTo("rolled_back");
    assertThat(hosts.host(r.getId(), "ag-p1").getRevert()).isEqualTo("REVERTED");

    // Two versions in the environment: which one would it redeploy? Refused.
    DeploymentRecord two = controller.admin().deploy(DeployRequest.newBuilder().setName("web").setVersion("2")
        .setSelector("rack=r2").putOptions("healthGate", "0s").build());
    activate(prod2);
    hosts.awaitEnd(two.getId());
    assertThat(refusal(() -> reconfigure("production"))).isEqualTo("web runs more than one version in production (1 on"
        + " 1 host, 2 on 1 host); promote one version to the whole environment, which installs it with today's values");
  }

  @Test
  void aFlagChangeGoesToHostsRunningTheAppAndBadOnesAreRefused() throws Exception {
    Instant opens = controller.clock.instant().plus(Duration.ofHours(2)).truncatedTo(ChronoUnit.MINUTES);
    LocalTime start = LocalTime.ofInstant(opens, ZoneOffset.UTC);
    apply(TWO.replace("production:\n", "production:\n    windows:\n      - {days: daily, start: \""
        + start + "\", end: \"" + start.plusMinutes(30) + "\"}\n"));
    assertThat(refusal(() -> setFlags("production", "", Map.of("checkout.v2", "true")))).startsWith(
        "production is outside its change windows").endsWith("; to change the flags now anyway (audited):"
        + " --override-window --reason TEXT");
    assertThat(refusal(() -> setFlags("staging", "", Map.of()))).isEqualTo("no flags to change; give NAME=VALUE, e.g."
        + " checkout.v2=true");
    // A name that breaks the grammar is refused at the door (RequestNames), before the flag service reads it.
    assertThatThrownBy(() -> setFlags("staging", "", Map.of("9x", "true"))).isInstanceOfSatisfying(
        StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).startsWith("flag name: 9x (expected:");
        });
    assertThat(refusal(() -> setFlags("staging", "", Map.of("a", "{oops")))).startsWith("flag value is not JSON");
    assertThat(refusal(() -> setFlags("staging", "rack==", Map.of("a", "1")))).contains("rack==");
    assertThat(refusal(() -> setFlags("qa", "", Map.of("a", "1")))).isEqualTo(
        "no environment \"qa\" (defined: staging, production)");

    // A host not running the app is left out; one running it gets the change, then is told to undo it.
    // Still, it is staging's flag now: a host new to the app starts with it.
    DeploymentRecord none = setFlags("staging", "", Map.of("a", "1"));
    assertThat(none.getHostsList()).singleElement().satisfies(h -> assertThat(h.getFailure()).isEqualTo("does not run web"));
    assertThat(hosts.awaitEnd(none.getId()).getState()).isEqualTo("completed");
    DeploymentRecord staged = promote("1", "staging");
    assertThat(activate(staging).getInitialFlagsMap()).containsExactly(Map.entry("a", "1"));
    hosts.awaitEnd(staged.getId());
    DeploymentRecord flags = setFlags("staging", "rack=r1", Map.of("checkout.v2", "true"));
    assertThat(flags.getSelector()).isEqualTo("env=staging,rack=r1");
    assertThat(flags.getFlagsMap()).containsExactly(Map.entry("checkout.v2", "true"));
    SetFlags sent = next(staging, Command.KindCase.SET_FLAGS).getSetFlags();
    assertThat(sent.getChangesMap()).containsExactly(Map.entry("checkout.v2", "true"));
    staging.send(io.rackroll.proto.v1.AgentMessage.newBuilder().setFlags(FlagsUpdate.newBuilder()
        .setDeploymentId(sent.getDeploymentId()).setApp("web").setPhase("ACTIVE").putFlags("checkout.v2", "true")
        .setAtEpochMillis(System.currentTimeMillis())).build());
    assertThat(hosts.awaitEnd(flags.getId()).getState()).isEqualTo("completed");
    assertThat(environmentFlags()).as("a change narrowed to some hosts is not the environment's")
        .containsExactly(Map.entry("staging", Map.of("a", "1")));
    DeploymentRecord everywhere = setFlags("staging", "", Map.of("checkout.v2", "true", "a", "null"));
    assertThat(everywhere.getHostsList()).singleElement()
        .satisfies(h -> assertThat(h.getFailure()).isEqualTo("already has a=null checkout.v2=true"));
    assertThat(hosts.awaitEnd(everywhere.getId()).getState()).isEqualTo("completed");
    assertThat(environmentFlags()).containsExactly(Map.entry("staging", Map.of("checkout.v2", "true")));
    assertThat(controller.admin().getFlags(GetFlagsRequest.newBuilder().setApp("web").build()).getHostsList())
        .extracting(HostFlags::getAgentId, h -> h.getFlagsMap().get("checkout.v2"))
        .containsExactly(org.assertj.core.groups.Tuple.tuple("ag-s1", "true"));
  }

  private Map<String, Map<String, String>> environmentFlags() {
    Map<String, Map<String, String>> out = new java.util.TreeMap<>();
    controller.admin().getFlags(GetFlagsRequest.newBuilder().setApp("web").build()).getEnvironmentsList()
        .forEach(e -> out.put(e.getEnvironment(), e.getFlagsMap()));
    return out;
  }

  private DeploymentRecord setFlags(String env, String selector, Map<String, String> changes) {
    return controller.admin().setFlags(SetFlagsRequest.newBuilder().setApp("web").setEnvironment(env)
        .setSelector(selector).putAllChanges(changes).build());
  }
}
