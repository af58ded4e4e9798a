package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.SystemInfo;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Store} backend must do. Subclasses supply a fresh, empty store per test.
 * Ids are random so a backend may share one database between tests.
 */
abstract class StoreContract {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  abstract Store store();

  private static String id(String prefix) {
    return prefix + UUID.randomUUID().toString().substring(0, 8);
  }

  private static NewToken token(String id, int uses, Instant expires) {
    return new NewToken(id, "hash-" + id, Map.of("rack", "r1", "role", "web"), expires, uses, T0, "admin");
  }

  @Test
  void tokenIsSpentOnceAndCarriesItsLabels() {
    String t = id("t").substring(0, 8);
    store().createToken(token(t, 1, T0.plus(Duration.ofHours(1))));
    Redemption first = store().redeemToken(t, "hash-" + t, T0.plusSeconds(1));
    assertThat(first.outcome()).isEqualTo(Redemption.Outcome.ACCEPTED);
    assertThat(first.labels()).containsExactlyInAnyOrderEntriesOf(Map.of("rack", "r1", "role", "web"));
    assertThat(store().redeemToken(t, "hash-" + t, T0.plusSeconds(2)).outcome()).isEqualTo(Redemption.Outcome.USED_UP);
  }

  @Test
  void tokenRefusalsAreDistinct() {
    String t = id("t").substring(0, 8);
    store().createToken(token(t, 3, T0.plus(Duration.ofHours(1))));
    assertThat(store().redeemToken(t, "wrong", T0).outcome()).isEqualTo(Redemption.Outcome.UNKNOWN);
    assertThat(store().redeemToken("nosuchid", "hash-x", T0).outcome()).isEqualTo(Redemption.Outcome.UNKNOWN);
    Redemption late = store().redeemToken(t, "hash-" + t, T0.plus(Duration.ofHours(1)));
    assertThat(late.outcome()).isEqualTo(Redemption.Outcome.EXPIRED);
    assertThat(late.expiresAt()).isEqualTo(T0.plus(Duration.ofHours(1)));
  }

  @Test
  void racingRedeemersNeverOverspendAToken() throws Exception {
    String t = id("t").substring(0, 8);
    store().createToken(token(t, 3, T0.plus(Duration.ofHours(1))));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Callable<Redemption.Outcome>> racers = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        racers.add(() -> store().redeemToken(t, "hash-" + t, T0).outcome());
      }
      long accepted = 0;
      for (Future<Redemption.Outcome> f : pool.invokeAll(racers)) {
        if (f.get() == Redemption.Outcome.ACCEPTED) {
          accepted++;
        }
      }
      assertThat(accepted).isEqualTo(3);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void enrolledAgentStartsEnrolledWithLabelsAndCertificate() {
    String a = id("ag-");
    store().enroll(new Enrollment(a, Map.of("rack", "r2"), "tok00001", "abc123", T0.plus(Duration.ofDays(90)), T0));
    StoredAgent got = store().agent(a).orElseThrow();
    assertThat(got.state()).isEqualTo(ConnectionState.ENROLLED);
    assertThat(got.labels()).isEqualTo(Map.of("rack", "r2"));
    assertThat(got.certificateSerial()).isEqualTo("abc123");
    assertThat(got.certificateNotAfter()).isEqualTo(T0.plus(Duration.ofDays(90)));
    assertThat(got.firstSeen()).isEqualTo(T0);
    assertThat(got.facts()).isEqualTo(Facts.getDefaultInstance());
  }

  @Test
  void replacingAHostKeepsTheAgentsHistoryAndRefusesEveryCertificateItHadBefore() {
    String a = id("ag-");
    store().enroll(new Enrollment(a, Map.of("rack", "r2", "role", "db"), "tok00001", "s1-" + a, T0.plusSeconds(100), T0));
    store().renewed(a, "s1-" + a, "s2-" + a, T0.plusSeconds(150), "ca");
    store().renewed(a, "s2-" + a, "s3-" + a, T0.plusSeconds(160), "ca");
    assertThat(store().certificatesOf(a, T0)).containsExactlyInAnyOrder("s1-" + a, "s2-" + a, "s3-" + a);

    // Enrolling the id again takes a token that says so: a token holder cannot take it over.
    assertThatThrownBy(() -> store().enroll(new Enrollment(a, Map.of(), "tok00002", "x-" + a, T0.plusSeconds(200), T0)))
        .isInstanceOf(Store.StoreException.class).hasMessageContaining("already exists");
    assertThat(store().enroll(new Enrollment(a, Map.of("rack", "r3"), "tok00002", "s4-" + a, T0.plusSeconds(200),
        T0.plusSeconds(50)).replacing())).containsExactlyInAnyOrder("s1-" + a, "s2-" + a, "s3-" + a);

    StoredAgent got = store().agent(a).orElseThrow();
    assertThat(got.labels()).isEqualTo(Map.of("rack", "r3"));
    assertThat(got.certificateSerial()).isEqualTo("s4-" + a);
    assertThat(got.firstSeen()).isEqualTo(T0);
    assertThat(store().revokedSerials(T0.plusSeconds(60))).contains("s1-" + a, "s2-" + a, "s3-" + a)
        .doesNotContain("s4-" + a);
    assertThatThrownBy(() -> store().enroll(new Enrollment(id("ag-"), Map.of(), "t", "s", T0, T0).replacing()))
        .hasMessageContaining("does not exist, so it cannot be replaced");
  }

  @Test
  void renewalFromCurrentOrPreviousCertificateOnly() {
    String a = id("ag-");
    store().enroll(new Enrollment(a, Map.of(), "tok00001", "c1", T0.plusSeconds(100), T0));
    assertThat(store().renewed(a, "c1", "c2", T0.plusSeconds(200), "ca2")).isTrue();
    assertThat(store().agent(a).orElseThrow().certificateSerial()).isEqualTo("c2");
    // The answer was lost: the agent asks again with the certificate it still holds.
    assertThat(store().renewed(a, "c1", "c3", T0.plusSeconds(210), "ca2")).isTrue();
    assertThat(store().agent(a).orElseThrow().certificateSerial()).isEqualTo("c3");
    assertThat(store().renewed(a, "c3", "c4", T0.plusSeconds(300), "ca2")).isTrue();
    assertThat(store().renewed(a, "c1", "c5", T0.plusSeconds(300), "ca2")).as("two renewals old").isFalse();
    assertThat(store().renewed(a, "zz", "c5", T0.plusSeconds(300), "ca2")).as("never issued").isFalse();
    assertThat(store().agent(a).orElseThrow().certificateSerial()).isEqualTo("c4");
    assertThat(store().agent(a).orElseThrow().certificateCa()).isEqualTo("ca2");
  }

  @Test
  void revocationRefusesEveryUnexpiredCertificateUntilTheAgentIsGivenToANewHost() {
    String a = id("ag-");
    store().enroll(new Enrollment(a, Map.of(), "tok00001", "r1-" + a, T0.plusSeconds(100), T0));
    store().renewed(a, "r1-" + a, "r2-" + a, T0.plusSeconds(200), "ca2");
    store().connected(a, "1.0.0", Facts.getDefaultInstance(), T0.plusSeconds(1));

    assertThat(store().revoke(a, "admin", T0.plusSeconds(50)).orElseThrow())
        .containsExactlyInAnyOrder("r2-" + a, "r1-" + a);
    assertThat(store().revokedAgents()).contains(a);
    assertThat(store().revokedSerials(T0.plusSeconds(60))).contains("r1-" + a, "r2-" + a);
    assertThat(store().revokedSerials(T0.plusSeconds(150))).as("r1 expired").contains("r2-" + a)
        .doesNotContain("r1-" + a);
    store().stateChanged(a, ConnectionState.DISCONNECTED, T0.plusSeconds(51));
    assertThat(store().agent(a).orElseThrow().state()).as("the stream closing does not unrevoke")
        .isEqualTo(ConnectionState.REVOKED);
    assertThat(store().renewed(a, "r2-" + a, "r3-" + a, T0.plusSeconds(52), "ca2")).isFalse();
    assertThat(store().revoke("ag-nobody", "admin", T0)).isEmpty();

    store().enroll(new Enrollment(a, Map.of(), "tok00002", "r4-" + a, T0.plusSeconds(300), T0.plusSeconds(60)).replacing());
    assertThat(store().agent(a).orElseThrow().state()).isEqualTo(ConnectionState.ENROLLED);
    assertThat(store().revokedAgents()).doesNotContain(a);
    assertThat(store().revokedSerials(T0.plusSeconds(60))).doesNotContain("r4-" + a).contains("r2-" + a);
    assertThat(store().renewed(a, "r4-" + a, "r5-" + a, T0.plusSeconds(400), "ca2")).isTrue();
  }

  @Test
  void connectionLifecycleIsRecorded() {
    String a = id("ag-");
    store().enroll(new Enrollment(a, Map.of(), "tok00001", "s1", T0.plusSeconds(1000), T0));
    Facts facts = Facts.newBuilder().setHostname("r1-s07").setMemoryBytes(1L << 34)
        .setSystem(SystemInfo.newBuilder().setSerial("SN-1")).build();
    store().connected(a, "1.0.0", facts, T0.plusSeconds(10));
    StoredAgent c = store().agent(a).orElseThrow();
    assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
    assertThat(c.facts()).isEqualTo(facts);
    assertThat(c.agentVersion()).isEqualTo("1.0.0");
    assertThat(c.stateSince()).isEqualTo(T0.plusSeconds(10));

    store().lastSeen(Map.of(a, T0.plusSeconds(30)));
    store().lastSeen(Map.of(a, T0.plusSeconds(20))); // an older flush never moves last_seen back
    assertThat(store().agent(a).orElseThrow().lastSeen()).isEqualTo(T0.plusSeconds(30));

    store().stateChanged(a, ConnectionState.STALE, T0.plusSeconds(40));
    assertThat(store().agent(a).orElseThrow().state()).isEqualTo(ConnectionState.STALE);
    store().stateChanged(a, ConnectionState.DISCONNECTED, T0.plusSeconds(50));
    StoredAgent d = store().agent(a).orElseThrow();
    assertThat(d.state()).isEqualTo(ConnectionState.DISCONNECTED);
    assertThat(d.stateSince()).isEqualTo(T0.plusSeconds(50));
  }

  @Test
  void factsUpdateAndSerialLookup() {
    String a = id("ag-");
    String b = id("ag-");
    String serial = id("SN-");
    for (String x : List.of(a, b)) {
      store().enroll(new Enrollment(x, Map.of(), "tok00001", "s", T0.plusSeconds(1000), T0));
      store().connected(x, "1", Facts.getDefaultInstance(), T0);
    }
    Facts withSerial = Facts.newBuilder().setHostname("h").setSystem(SystemInfo.newBuilder().setSerial(serial)).build();
    store().factsChanged(a, withSerial);
    store().factsChanged(b, withSerial);
    assertThat(store().agentsWithSystemSerial(serial)).containsExactlyInAnyOrder(a, b);
    assertThat(store().agent(a).orElseThrow().facts().getHostname()).isEqualTo("h");
  }

  @Test
  void restartDisconnectsEveryConnectedAgent() {
    String a = id("ag-");
    String b = id("ag-");
    for (String x : List.of(a, b)) {
      store().enroll(new Enrollment(x, Map.of(), "tok00001", "s", T0.plusSeconds(1000), T0));
    }
    store().connected(a, "1", Facts.getDefaultInstance(), T0);
    Instant restart = T0.plus(5, ChronoUnit.MINUTES);
    assertThat(store().disconnectAll(restart)).isGreaterThanOrEqualTo(1);
    assertThat(store().agent(a).orElseThrow().state()).isEqualTo(ConnectionState.DISCONNECTED);
    assertThat(store().agent(a).orElseThrow().stateSince()).isEqualTo(restart);
    assertThat(store().agent(b).orElseThrow().state()).as("never connected stays enrolled").isEqualTo(ConnectionState.ENROLLED);
  }

  @Test
  void listsAgentsWithTheirLabels() {
    String a = id("ag-");
    store().enroll(new Enrollment(a, Map.of("rack", "r9", "site", "fra1"), "tok00001", "s", T0.plusSeconds(1000), T0));
    assertThat(store().agents()).filteredOn(x -> x.id().equals(a)).singleElement()
        .satisfies(x -> assertThat(x.labels()).isEqualTo(Map.of("rack", "r9", "site", "fra1")));
    assertThat(store().agent("ag-missing")).isEmpty();
  }

  @Test
  void releasesAreImmutableAndTheFirstPushWins() {
    String app = id("app");
    StoredRelease first = new StoredRelease(app, "1.0.0", "a".repeat(64), 10, 20, 2, "name: x", "admin", T0);
    assertThat(store().addRelease(first)).isEqualTo(first);
    StoredRelease other = new StoredRelease(app, "1.0.0", "b".repeat(64), 11, 21, 3, "name: y", "bob", T0.plusSeconds(5));
    assertThat(store().addRelease(other)).as("the existing release is returned, unchanged").isEqualTo(first);
    assertThat(store().release(app, "1.0.0")).contains(first);
    assertThat(store().release(app, "9.9.9")).isEmpty();
  }

  @Test
  void racingPushesOfOneVersionAgreeOnOneWinner() throws Exception {
    String app = id("app");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Callable<StoredRelease>> racers = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String digest = Integer.toHexString(i).repeat(64).substring(0, 64);
        racers.add(() -> store().addRelease(new StoredRelease(app, "1", digest, 1, 1, 1, "m", "admin", T0)));
      }
      java.util.Set<String> winners = new java.util.HashSet<>();
      for (Future<StoredRelease> f : pool.invokeAll(racers)) {
        winners.add(f.get().digest());
      }
      assertThat(winners).hasSize(1);
      assertThat(store().release(app, "1").orElseThrow().digest()).isEqualTo(winners.iterator().next());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void listsReleasesNewestFirstAndByName() {
    String app = id("app");
    store().addRelease(new StoredRelease(app, "1", "c".repeat(64), 1, 1, 1, "m", "admin", T0));
    store().addRelease(new StoredRelease(app, "2", "d".repeat(64), 1, 1, 1, "m", "admin", T0.plusSeconds(60)));
    store().addRelease(new StoredRelease(app + "x", "1", "e".repeat(64), 1, 1, 1, "m", "admin", T0));
    assertThat(store().releases(app)).extracting(StoredRelease::version).containsExactly("2", "1");
    assertThat(store().releases("")).extracting(StoredRelease::name).contains(app, app + "x");
  }

  private static Deployment.Host host(String agentId, String rack, int batch, String before) {
    return new Deployment.Host(agentId, "host-" + agentId, rack, batch, HostPhase.PENDING, "", "", "2", before, before.isEmpty() ? "" : "cfg-" + before, "", T0);
  }

  private static Deployment deployment(String id, String app, List<Deployment.Host> hosts) {
    return new Deployment(id, "deploy", app, "2", "rack=r1", "admin", T0,
        Map.of("batch", "1", "maxPerRack", "1"), "running", 0, 2, 1, "", T0, "", "", Map.of(), hosts);
  }

  @Test
  void aFlagChangeKeepsItsFlagsAndHostsKeepTheNewestReportedFlags() {
    String app = id("app");
    String a = id("ag-");
    String d = id("d-");
    Deployment flags = deployment(d, app, List.of(host(a, "r1", 0, "2")));
    flags = new Deployment(d, "flags", app, "", "rack=r1", "admin", T0, Map.of(), "running", 0, 1, 0, "", T0,
        "production", "", Map.of("checkout.v2", "true", "color", "\"blue, green\""), flags.hosts());
    store().createDeployment(flags);
    store().createDeployment(deployment(id("d-"), app, List.of()));

    assertThat(store().deployment(d).orElseThrow().flags())
        .containsExactly(Map.entry("checkout.v2", "true"), Map.entry("color", "\"blue, green\""));
    assertThat(store().flagChanges(app, 10)).extracting(Deployment::id).containsExactly(d);

    store().hostFlags(new FlagsReport(a, d, app, "ACTIVE", "", "", Map.of("checkout.v2", "true"), T0.plusSeconds(2)));
    store().hostFlags(new FlagsReport(a, d, app, "APPLYING", "", "", Map.of(), T0.plusSeconds(1))); // late, older
    assertThat(store().hostFlags(app)).containsExactly(
        Map.entry(a, new ReportedFlags(Map.of("checkout.v2", "true"), T0.plusSeconds(2))));
    store().hostFlags(new FlagsReport(a, d, app, "ACTIVE", "", "", Map.of(), T0.plusSeconds(3)));
    assertThat(store().hostFlags(app).get(a).flags()).isEmpty();
  }

  @Test
  void anEnvironmentsFlagsAreItsChangesMerged() {
    String app = id("app");
    assertThat(store().environmentFlags(app)).isEmpty();

    store().environmentFlags("production", app, Map.of("checkout.v2", "true", "color", "\"blue\""), T0);
    store().environmentFlags("staging", app, Map.of("rate", "0.5"), T0);
    store().environmentFlags("production", app, Map.of("color", "null", "rate", "1"), T0.plusSeconds(1));
    store().environmentFlags("production", app, Map.of("color", "null", "rate", "1"), T0.plusSeconds(2)); // again

    assertThat(store().environmentFlags(app)).containsExactly(
        Map.entry("production", Map.of("checkout.v2", "true", "rate", "1")),
        Map.entry("staging", Map.of("rate", "0.5")));
    assertThat(store().environmentFlags(id("other"))).isEmpty();
  }

  @Test
  void aDeploymentKeepsItsPlanStrategyAndStateAndEveryHostTransition() {
    String d = id("d-");
    String a = id("ag-");
    String b = id("ag-");
    store().createDeployment(deployment(d, "web", List.of(host(a, "r1", 0, "1"), host(b, "r2", 1, ""))));

    Deployment got = store().deployment(d).orElseThrow();
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
    assertThat(store().activeDeployments()).extracting(Deployment::id).contains(d);

    store().hostPhase(d, a, HostPhase.SENT, "", "", T0.plusSeconds(1));
    store().hostPhase(d, a, HostPhase.ACTIVE, "", "", T0.plusSeconds(2));
    store().hostPhase(d, b, HostPhase.FAILED, "hook_failed", "postInstall exited with 3", T0.plusSeconds(3));
    store().deploymentState(d, "rolling_back", 1, "failure budget spent", T0.plusSeconds(3));
    store().hostRevert(d, a, "SENT", "back to 1", T0.plusSeconds(4));
    store().hostRevert(d, a, "REVERTED", "back on 1", T0.plusSeconds(5));
    store().deploymentState(d, "rolled_back", 1, "failure budget spent", T0.plusSeconds(5));

    got = store().deployment(d).orElseThrow();
    assertThat(got.state()).isEqualTo("rolled_back");
    assertThat(got.ended()).isTrue();
    assertThat(got.reason()).isEqualTo("failure budget spent");
    assertThat(got.hosts()).extracting(Deployment.Host::phase).containsExactly(HostPhase.ACTIVE, HostPhase.FAILED);
    assertThat(got.hosts().get(0).revert()).isEqualTo("REVERTED");
    assertThat(got.hosts().get(1).failure()).isEqualTo("postInstall exited with 3");
    assertThat(store().activeDeployments()).extracting(Deployment::id).doesNotContain(d);
    assertThat(store().transitions(d)).extracting(t -> t.agentId().equals(a) ? "a " + t.phase() + " " + t.version()
        : "b " + t.phase() + " " + t.version())
        .containsExactly("a SENT 2", "a ACTIVE 2", "b FAILED 2", "a REVERT_SENT 1", "a REVERT_REVERTED 1");
    assertThat(store().history(a, 10)).extracting(Transition::phase)
        .containsExactly("REVERT_REVERTED", "REVERT_SENT", "ACTIVE", "SENT");
    assertThat(store().history(a, 10).get(0).app()).isEqualTo("web");
    assertThat(store().deployments(100)).extracting(Deployment::id).contains(d);
    assertThat(store().deployment("d-none")).isEmpty();
  }

  @Test
  void hostReportsKeepTheLatestStateOfEachAppPerHost() {
    String a = id("ag-");
    String app = id("app");
    store().hostJob(new HostJob(a, "d-1", app, "2", "INSTALLING", "", "", "1", "1", List.of("1"), T0.plusSeconds(1)));
    store().hostJob(new HostJob(a, "d-1", app, "2", "ACTIVE", "", "", "2", "1", List.of("2", "1"), T0.plusSeconds(2)));
    // A late, older report never moves the host backwards.
    store().hostJob(new HostJob(a, "d-1", app, "2", "INSTALLING", "", "", "1", "1", List.of("1"), T0.plusSeconds(1)));
    store().appHealth(a, app, "UNHEALTHY (0 of 1 checks pass)", T0.plusSeconds(3));

    assertThat(store().agentApps(a)).singleElement().satisfies(j -> {
      assertThat(j.phase()).isEqualTo("ACTIVE");
      assertThat(j.keptVersions()).containsExactly("2", "1");
    });
    HostApp onHost = store().hostApps(app).get(a);
    assertThat(onHost.currentVersion()).isEqualTo("2");
    assertThat(onHost.keptVersions()).containsExactly("2", "1");
    assertThat(onHost.healthyOn("2")).as("its last health report failed").isFalse();
    store().appHealth(a, app, "healthy (1 of 1 checks pass)", T0.plusSeconds(4));
    assertThat(store().hostApps(app).get(a).healthyOn("2")).isTrue();
    assertThat(store().hostApps(app).get(a).healthyOn("1")).isFalse();
  }

  @Test
  void auditEntriesComeBackNewestFirst() {
    String target = id("d-");
    store().audit(AuditEntry.of(T0, "alice", "deploy", target, "web@2"));
    store().audit(AuditEntry.of(T0.plusSeconds(1), "controller", "halt", target, "failure budget spent"));
    List<AuditEntry> mine = store().audit(1000).stream().filter(e -> e.target().equals(target)).toList();
    assertThat(mine).extracting(AuditEntry::actor).containsExactly("controller", "alice");
    assertThat(mine.get(0).seq()).isGreaterThan(mine.get(1).seq());
    assertThat(store().audit(1)).hasSize(1);
  }

  @Test
  void agentsMayFetchOnlyArtifactsADeploymentChoseThemFor() {
    String app = id("app");
    String chosen = id("ag-");
    String digest = id("f").repeat(8).substring(0, 64);
    store().addRelease(new StoredRelease(app, "2", digest, 1, 1, 1, "m", "admin", T0));
    store().createDeployment(deployment(id("d-"), app, List.of(host(chosen, "r1", 0, ""))));
    assertThat(store().agentMayFetch(chosen, digest)).isTrue();
    assertThat(store().agentMayFetch(id("ag-"), digest)).isFalse();
    assertThat(store().agentMayFetch(chosen, "0".repeat(64))).isFalse();
  }

  @Test
  void lastHealthLineIsKeptPerApp() {
    String a = id("ag-");
    store().hostJob(new HostJob(a, "", "web", "1", "ACTIVE", "", "", "1", "", List.of("1"), T0));
    store().appHealth(a, "web", "healthy (1 of 1 checks pass)", T0.plusSeconds(30));
    store().appHealth(a, "web", "older report", T0.plusSeconds(10));
    assertThat(store().appHealth(a)).isEqualTo(Map.of("web", "healthy (1 of 1 checks pass)"));
  }
}
