package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.SystemInfo;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What every backend's {@code AgentStore} must do: connections, facts and what hosts report. */
abstract class AgentStoreContract extends StoreContract {
  @Test
  void connectionLifecycleIsRecorded() {
    String a = id("ag-");
    store().enrollment().enroll(new Enrollment(a, Map.of(), "tok00001", "s1", T0.plusSeconds(1000), T0));
    Facts facts = Facts.newBuilder().setHostname("r1-s07").setMemoryBytes(1L << 34)
        .setSystem(SystemInfo.newBuilder().setSerial("SN-1")).build();
    store().agents().connected(a, "1.0.0", facts, T0.plusSeconds(10));
    StoredAgent c = store().agents().agent(a).orElseThrow();
    assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
    assertThat(c.facts()).isEqualTo(facts);
    assertThat(c.agentVersion()).isEqualTo("1.0.0");
    assertThat(c.stateSince()).isEqualTo(T0.plusSeconds(10));

    store().agents().lastSeen(Map.of(a, T0.plusSeconds(30)));
    store().agents().lastSeen(Map.of(a, T0.plusSeconds(20))); // an older flush never moves last_seen back
    assertThat(store().agents().agent(a).orElseThrow().lastSeen()).isEqualTo(T0.plusSeconds(30));

    store().agents().stateChanged(a, ConnectionState.STALE, T0.plusSeconds(40));
    assertThat(store().agents().agent(a).orElseThrow().state()).isEqualTo(ConnectionState.STALE);
    store().agents().stateChanged(a, ConnectionState.DISCONNECTED, T0.plusSeconds(50));
    StoredAgent d = store().agents().agent(a).orElseThrow();
    assertThat(d.state()).isEqualTo(ConnectionState.DISCONNECTED);
    assertThat(d.stateSince()).isEqualTo(T0.plusSeconds(50));
  }

  @Test
  void factsUpdateAndSerialLookup() {
    String a = id("ag-");
    String b = id("ag-");
    String serial = id("SN-");
    for (String x : List.of(a, b)) {
      store().enrollment().enroll(new Enrollment(x, Map.of(), "tok00001", "s", T0.plusSeconds(1000), T0));
      store().agents().connected(x, "1", Facts.getDefaultInstance(), T0);
    }
    Facts withSerial = Facts.newBuilder().setHostname("h").setSystem(SystemInfo.newBuilder().setSerial(serial)).build();
    store().agents().factsChanged(a, withSerial);
    store().agents().factsChanged(b, withSerial);
    assertThat(store().agents().agentsWithSystemSerial(serial)).containsExactlyInAnyOrder(a, b);
    assertThat(store().agents().agent(a).orElseThrow().facts().getHostname()).isEqualTo("h");
  }

  @Test
  void restartDisconnectsEveryConnectedAgent() {
    String a = id("ag-");
    String b = id("ag-");
    for (String x : List.of(a, b)) {
      store().enrollment().enroll(new Enrollment(x, Map.of(), "tok00001", "s", T0.plusSeconds(1000), T0));
    }
    store().agents().connected(a, "1", Facts.getDefaultInstance(), T0);
    Instant restart = T0.plus(5, ChronoUnit.MINUTES);
    assertThat(store().agents().disconnectAll(restart)).isGreaterThanOrEqualTo(1);
    assertThat(store().agents().agent(a).orElseThrow().state()).isEqualTo(ConnectionState.DISCONNECTED);
    assertThat(store().agents().agent(a).orElseThrow().stateSince()).isEqualTo(restart);
    assertThat(store().agents().agent(b).orElseThrow().state()).as("never connected stays enrolled").isEqualTo(ConnectionState.ENROLLED);
  }

  @Test
  void listsAgentsWithTheirLabels() {
    String a = id("ag-");
    store().enrollment().enroll(new Enrollment(a, Map.of("rack", "r9", "site", "fra1"), "tok00001", "s", T0.plusSeconds(1000), T0));
    assertThat(store().agents().all()).filteredOn(x -> x.id().equals(a)).singleElement()
        .satisfies(x -> assertThat(x.labels()).isEqualTo(Map.of("rack", "r9", "site", "fra1")));
    assertThat(store().agents().agent("ag-missing")).isEmpty();
  }

  @Test
  void hostReportsKeepTheLatestStateOfEachAppPerHost() {
    String a = id("ag-");
    String app = id("app");
    store().agents().hostJob(new HostJob(a, "d-1", app, "2", "INSTALLING", "", "", "1", "1", List.of("1"), T0.plusSeconds(1)));
    store().agents().hostJob(new HostJob(a, "d-1", app, "2", "ACTIVE", "", "", "2", "1", List.of("2", "1"), T0.plusSeconds(2)));
    // A late, older report never moves the host backwards.
    store().agents().hostJob(new HostJob(a, "d-1", app, "2", "INSTALLING", "", "", "1", "1", List.of("1"), T0.plusSeconds(1)));
    store().agents().appHealth(a, app, false, "UNHEALTHY (0 of 1 checks pass)", T0.plusSeconds(3));

    assertThat(store().agents().agentApps(a)).singleElement().satisfies(j -> {
      assertThat(j.phase()).isEqualTo("ACTIVE");
      assertThat(j.keptVersions()).containsExactly("2", "1");
    });
    HostApp onHost = store().agents().hostApps(app).get(a);
    assertThat(onHost.currentVersion()).isEqualTo("2");
    assertThat(onHost.keptVersions()).containsExactly("2", "1");
    assertThat(onHost.healthyOn("2")).as("its last health report failed").isFalse();
    store().agents().appHealth(a, app, true, "healthy (1 of 1 checks pass)", T0.plusSeconds(4));
    assertThat(store().agents().hostApps(app).get(a).healthyOn("2")).isTrue();
    assertThat(store().agents().hostApps(app).get(a).healthyOn("1")).isFalse();
  }

  @Test
  void agentsCountByRackAndStateAndTheFirstCertificateToEndIsFound() {
    String rack = id("rk-");
    String a = id("ag-");
    String b = id("ag-");
    String c = id("ag-");
    Instant soonest = T0.minus(Duration.ofDays(365)); // before any other test's certificates end
    store().enrollment().enroll(new Enrollment(a, Map.of("rack", rack), "tok00001", "s-" + a, soonest, T0));
    store().enrollment().enroll(new Enrollment(b, Map.of("rack", rack), "tok00001", "s-" + b, T0.plusSeconds(1000), T0));
    store().enrollment().enroll(new Enrollment(c, Map.of("rack", rack), "tok00001", "s-" + c, T0.plusSeconds(1000), T0));
    store().agents().connected(b, "1", Facts.getDefaultInstance(), T0);
    store().agents().connected(c, "1", Facts.getDefaultInstance(), T0);
    store().agents().stateChanged(c, ConnectionState.STALE, T0.plusSeconds(40));
    assertThat(store().agents().agentCountsByRack().get(rack)).isEqualTo(Map.of(
        ConnectionState.ENROLLED.label(), 1, ConnectionState.CONNECTED.label(), 1, ConnectionState.STALE.label(), 1));
    assertThat(store().agents().soonestCertificateExpiry()).contains(soonest);

    store().enrollment().revoke(a, "admin", T0.plusSeconds(50));
    assertThat(store().agents().soonestCertificateExpiry()).as("a revoked agent's certificate does not count")
        .isNotEqualTo(java.util.Optional.of(soonest));
    assertThat(store().agents().agentCountsByRack().get(rack)).containsEntry(ConnectionState.REVOKED.label(), 1);
  }

  @Test
  void lastHealthLineIsKeptPerApp() {
    String a = id("ag-");
    store().agents().hostJob(new HostJob(a, "", "web", "1", "ACTIVE", "", "", "1", "", List.of("1"), T0));
    store().agents().appHealth(a, "web", true, "healthy (1 of 1 checks pass)", T0.plusSeconds(30));
    store().agents().appHealth(a, "web", false, "older report", T0.plusSeconds(10));
    assertThat(store().agents().appHealth(a)).isEqualTo(Map.of("web", "healthy (1 of 1 checks pass)"));
    assertThat(store().agents().unhealthyApps()).noneMatch(u -> u.agentId().equals(a));
  }

  @Test
  void labelsAreReplacedWholeAndOnlyForAnAgentThatExists() {
    String a = id("ag-");
    store().enrollment().enroll(new Enrollment(a, Map.of("rack", "r9", "site", "fra1"), "tok00001", "s", T0.plusSeconds(1000), T0));
    assertThat(store().agents().labels(a, Map.of("rack", "r2", "role", "web"))).isTrue();
    assertThat(store().agents().agent(a).orElseThrow().labels()).isEqualTo(Map.of("rack", "r2", "role", "web"));
    assertThat(store().agents().all()).filteredOn(x -> x.id().equals(a)).singleElement()
        .satisfies(x -> assertThat(x.labels()).isEqualTo(Map.of("rack", "r2", "role", "web")));
    assertThat(store().agents().labels("ag-none", Map.of("rack", "r1"))).isFalse();
  }

  @Test
  void aRemovedAgentIsForgottenWhileItsRevokedCertificatesAndHistoryStay() {
    String a = id("ag-");
    String app = id("app");
    store().enrollment().enroll(new Enrollment(a, Map.of("rack", "r9"), "tok00001", "serial-" + a, T0.plusSeconds(1000), T0));
    store().agents().hostJob(new HostJob(a, "d-1", app, "2", "ACTIVE", "", "", "2", "1", List.of("2", "1"), T0));
    store().agents().appHealth(a, app, false, "UNHEALTHY (0 of 1 checks pass)", T0.plusSeconds(20));
    store().agents().hostFlags(new FlagsReport(a, "d-2", app, "ACTIVE", "", "", Map.of("beta", "true"), T0));
    assertThat(store().enrollment().revoke(a, "admin", T0.plusSeconds(30))).hasValue(List.of("serial-" + a));

    assertThat(store().agents().remove(a)).isTrue();

    assertThat(store().agents().agent(a)).isEmpty();
    assertThat(store().agents().all()).noneMatch(x -> x.id().equals(a));
    assertThat(store().agents().hostApps(app)).doesNotContainKey(a);
    assertThat(store().agents().hostFlags(app)).doesNotContainKey(a);
    assertThat(store().agents().unhealthyApps()).noneMatch(u -> u.agentId().equals(a));
    assertThat(store().enrollment().certificateRevoked("serial-" + a)).as("still refused").isTrue();
    assertThat(store().agents().remove(a)).isFalse();
    // Enrolled again (a new token), the same id starts from nothing.
    store().enrollment().enroll(new Enrollment(a, Map.of(), "tok00002", "serial2-" + a, T0.plusSeconds(1000), T0.plusSeconds(40)));
    assertThat(store().agents().agent(a).orElseThrow().labels()).isEmpty();
  }

  @Test
  void anAppThatTurnsUnhealthyIsListedSinceItsFirstUnhealthyReportUntilItIsHealthyAgain() {
    String a = id("ag-");
    String app = id("app");
    store().agents().hostJob(new HostJob(a, "d-1", app, "2", "ACTIVE", "", "", "2", "1", List.of("2", "1"), T0));
    store().agents().appHealth(a, app, true, "healthy (1 of 1 checks pass)", T0.plusSeconds(10));
    assertThat(store().agents().unhealthyCounts()).containsEntry(app, 0);

    store().agents().appHealth(a, app, false, "UNHEALTHY (0 of 1 checks pass): exec exited with 1", T0.plusSeconds(20));
    store().agents().appHealth(a, app, false, "UNHEALTHY (0 of 1 checks pass): exec exited with 2", T0.plusSeconds(30));
    assertThat(store().agents().unhealthyApps()).filteredOn(u -> u.agentId().equals(a)).singleElement()
        .isEqualTo(new UnhealthyApp(a, app, "2", T0.plusSeconds(20), "UNHEALTHY (0 of 1 checks pass): exec exited with 2"));
    assertThat(store().agents().unhealthyCounts()).containsEntry(app, 1);

    store().agents().appHealth(a, app, true, "healthy (1 of 1 checks pass)", T0.plusSeconds(40));
    assertThat(store().agents().unhealthyApps()).noneMatch(u -> u.agentId().equals(a));
    assertThat(store().agents().unhealthyCounts()).containsEntry(app, 0);
  }
}
