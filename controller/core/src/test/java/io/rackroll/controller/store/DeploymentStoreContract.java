package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What every backend's {@code DeploymentStore} must do: deployments, their hosts and transitions. */
abstract class DeploymentStoreContract extends StoreContract {
  @Test
  void aDeploymentKeepsItsPlanStrategyAndStateAndEveryHostTransition() {
    String d = id("d-");
    String a = id("ag-");
    String b = id("ag-");
    store().deployments().createDeployment(deployment(d, "web", List.of(host(a, "r1", 0, "1"), host(b, "r2", 1, ""))));

    Deployment got = store().deployments().deployment(d).orElseThrow();
    assertThat(got.state()).isEqualTo("running");
    assertThat(got.strategy()).containsEntry("maxPerRack", "1");
    assertThat(got.hosts()).extracting(Deployment.Host::agentId).containsExactly(a, b);
    assertThat(got.hosts().get(0)).satisfies(h -> {
      assertThat(h.batch()).isZero();
      assertThat(h.domain()).isEqualTo("r1");
      assertThat(h.hostname()).isEqualTo("host-" + a);
      assertThat(h.beforeVersion()).isEqualTo("1");
      assertThat(h.beforeConfig()).isEqualTo("cfg-1");
    });
    assertThat(store().deployments().activeDeployments()).extracting(Deployment::id).contains(d);

    store().deployments().hostPhase(d, a, HostPhase.SENT, "", "", T0.plusSeconds(1));
    store().deployments().hostPhase(d, a, HostPhase.ACTIVE, "", "", T0.plusSeconds(2));
    store().deployments().hostPhase(d, b, HostPhase.FAILED, "hook_failed", "postInstall exited with 3", T0.plusSeconds(3));
    store().deployments().deploymentState(d, "rolling_back", 1, "failure budget spent", T0.plusSeconds(3));
    store().deployments().hostRevert(d, a, "SENT", "back to 1", T0.plusSeconds(4));
    store().deployments().hostRevert(d, a, "REVERTED", "back on 1", T0.plusSeconds(5));
    store().deployments().deploymentState(d, "rolled_back", 1, "failure budget spent", T0.plusSeconds(5));

    got = store().deployments().deployment(d).orElseThrow();
    assertThat(got.state()).isEqualTo("rolled_back");
    assertThat(got.ended()).isTrue();
    assertThat(got.reason()).isEqualTo("failure budget spent");
    assertThat(got.hosts()).extracting(Deployment.Host::phase).containsExactly(HostPhase.ACTIVE, HostPhase.FAILED);
    assertThat(got.hosts().get(0).revert()).isEqualTo("REVERTED");
    assertThat(got.hosts().get(1).failure()).isEqualTo("postInstall exited with 3");
    assertThat(store().deployments().activeDeployments()).extracting(Deployment::id).doesNotContain(d);
    assertThat(store().deployments().transitions(d)).extracting(t -> t.agentId().equals(a) ? "a " + t.phase() + " " + t.version()
        : "b " + t.phase() + " " + t.version())
        .containsExactly("a SENT 2", "a ACTIVE 2", "b FAILED 2", "a REVERT_SENT 1", "a REVERT_REVERTED 1");
    assertThat(store().deployments().history(a, 10)).extracting(Transition::phase)
        .containsExactly("REVERT_REVERTED", "REVERT_SENT", "ACTIVE", "SENT");
    assertThat(store().deployments().history(a, 10).get(0).app()).isEqualTo("web");
    assertThat(store().deployments().recent(100)).extracting(Deployment::id).contains(d);
    assertThat(store().deployments().deployment("d-none")).isEmpty();
  }

  @Test
  void aRollbackToEachHostsPreviousReleaseRecordsWhereEachWentOnce() {
    String d = id("d-");
    String a = id("ag-");
    Deployment.Host toPrevious = new Deployment.Host(a, "host-" + a, "r1", 0, HostPhase.PENDING, "", "", "", "3", "",
        "", T0);
    Deployment rollback = new Deployment(d, "rollback", "web", "", "rack=r1", "admin", T0, Map.of(), "running", 0, 1, 0,
        "", T0, "", "", Map.of(), List.of(toPrevious));
    store().deployments().createDeployment(rollback);

    store().deployments().hostVersion(d, a, "2");
    store().deployments().hostPhase(d, a, HostPhase.ACTIVE, "", "", T0.plusSeconds(1));
    store().deployments().hostVersion(d, a, "1"); // recorded already: kept

    assertThat(store().deployments().deployment(d).orElseThrow().hosts()).extracting(Deployment.Host::version)
        .containsExactly("2");
    assertThat(store().deployments().transitions(d)).extracting(Transition::version).containsExactly("2");
  }

  @Test
  void aFlagChangeKeepsItsFlagsAndHostsKeepTheNewestReportedFlags() {
    String app = id("app");
    String a = id("ag-");
    String d = id("d-");
    Deployment flags = deployment(d, app, List.of(host(a, "r1", 0, "2")));
    flags = new Deployment(d, "flags", app, "", "rack=r1", "admin", T0, Map.of(), "running", 0, 1, 0, "", T0,
        "production", "", Map.of("checkout.v2", "true", "color", "\"blue, green\""), flags.hosts());
    store().deployments().createDeployment(flags);
    store().deployments().createDeployment(deployment(id("d-"), app, List.of()));

    assertThat(store().deployments().deployment(d).orElseThrow().flags())
        .containsExactly(Map.entry("checkout.v2", "true"), Map.entry("color", "\"blue, green\""));
    assertThat(store().deployments().flagChanges(app, 10)).extracting(Deployment::id).containsExactly(d);

    store().agents().hostFlags(new FlagsReport(a, d, app, "ACTIVE", "", "", Map.of("checkout.v2", "true"), T0.plusSeconds(2)));
    store().agents().hostFlags(new FlagsReport(a, d, app, "APPLYING", "", "", Map.of(), T0.plusSeconds(1))); // late, older
    assertThat(store().agents().hostFlags(app)).containsExactly(
        Map.entry(a, new ReportedFlags(Map.of("checkout.v2", "true"), T0.plusSeconds(2))));
    store().agents().hostFlags(new FlagsReport(a, d, app, "ACTIVE", "", "", Map.of(), T0.plusSeconds(3)));
    assertThat(store().agents().hostFlags(app).get(a).flags()).isEmpty();
  }
}
