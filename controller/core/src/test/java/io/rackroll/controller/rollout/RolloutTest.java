package io.rackroll.controller.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.controller.env.EnvironmentService;
import io.rackroll.controller.env.SecretBox;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.DeploymentStore;
import io.rackroll.controller.store.Enrollment;
import io.rackroll.controller.store.HostApp;
import io.rackroll.controller.store.HostPhase;
import io.rackroll.controller.store.JdbcStore;
import io.rackroll.controller.store.NewToken;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.store.StoredRelease;
import io.rackroll.controller.strategy.Strategy;
import io.rackroll.controller.testing.MutableClock;
import io.rackroll.proto.v1.Command;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One deployment's state machine with no network: a real store (H2 in a temporary directory), a
 * clock the test moves, and hosts played as a set of connections with the commands sent on them.
 * Every move in {@link DeploymentState}'s and {@link RevertState}'s tables is made by some test
 * here, and the last check proves it: a move the engine can no longer make must leave the table.
 */
class RolloutTest {
  private static final Instant T0 = Instant.parse("2026-06-01T08:00:00Z");
  /** Moves made by the tests of this class, as "running -> paused", recorded where they are stored. */
  private static final Set<String> DEPLOYMENT_MOVES = ConcurrentHashMap.newKeySet();
  private static final Set<String> REVERT_MOVES = ConcurrentHashMap.newKeySet();
  private static final AtomicInteger TESTS_RUN = new AtomicInteger();

  @TempDir Path dir;
  private Store jdbc;
  private Store store;
  private final MutableClock clock = new MutableClock(T0);
  private final Hosts hosts = new Hosts();
  private EnvironmentService environments;
  private RolloutContext context;

  /** The fleet's connections as the engine sees them: who is connected, and what each was sent. */
  private static final class Hosts implements HostCommands.Hosts {
    final Set<String> connected = new HashSet<>();
    final Set<String> silent = new HashSet<>();
    final Map<String, List<Command>> sent = new HashMap<>();

    @Override
    public boolean connected(String agentId) {
      return connected.contains(agentId);
    }

    @Override
    public boolean silent(String agentId) {
      return silent.contains(agentId);
    }

    @Override
    public boolean send(String agentId, Command command) {
      if (!connected.contains(agentId)) {
        return false;
      }
      sent.computeIfAbsent(agentId, a -> new ArrayList<>()).add(command);
      return true;
    }

    Command last(String agentId) {
      List<Command> all = sent.getOrDefault(agentId, List.of());
      assertThat(all).as("commands sent to " + agentId).isNotEmpty();
      return all.get(all.size() - 1);
    }

    int count(String agentId) {
      return sent.getOrDefault(agentId, List.of()).size();
    }
  }

  @BeforeEach
  void open() throws Exception {
    jdbc = JdbcStore.embedded(dir.resolve("data"));
    store = new Store(jdbc.enrollment(), jdbc.agents(), jdbc.releases(), recording(jdbc.deployments()),
        jdbc.environments(), jdbc.audit(), null);
    store.releases().addRelease(new StoredRelease("web", "2", "d".repeat(64), 100, 200, 3, "name: web", "admin", T0));
    environments = EnvironmentService.load(store.environments(), store.agents(), store.audit(), clock,
        SecretBox.open(dir.resolve("data")));
    context = new RolloutContext(store, new HostCommands(hosts, environments),
        new ChangeWindows(environments, clock), clock, Duration.ofSeconds(15));
    context.started();
    clock.advance(Duration.ofSeconds(20)); // past the reconnect grace
  }

  @AfterEach
  void close() {
    jdbc.close();
  }

  @AfterEach
  void counted() {
    TESTS_RUN.incrementAndGet();
  }

  /** Checked when every test of the class ran (not when one is run alone). */
  @AfterAll
  static void everyMoveInTheTablesIsMadeBySomeTest() {
    long tests = Arrays.stream(RolloutTest.class.getDeclaredMethods()).filter(m -> m.isAnnotationPresent(Test.class))
        .count();
    if (TESTS_RUN.get() < tests) {
      return;
    }
    Set<String> table = new TreeSet<>();
    for (DeploymentState from : DeploymentState.values()) {
      from.next().forEach(to -> table.add(from.label() + " -> " + to.label()));
    }
    assertThat(new TreeSet<>(DEPLOYMENT_MOVES)).isEqualTo(table);
    Set<String> reverts = new TreeSet<>();
    for (RevertState from : RevertState.values()) {
      from.next().forEach(to -> reverts.add(from + " -> " + to));
    }
    assertThat(new TreeSet<>(REVERT_MOVES)).isEqualTo(reverts);
  }

  // ---- running, batch by batch ----

  @Test
  void batchesRunOneAfterAnotherEachThroughItsHealthGate() {
    connect("a", "b");
    Rollout r = deploy(Map.of("canary", "0", "batch", "1", "healthGate", "30s"), 0, List.of("a"), List.of("b"));
    assertThat(hosts.last("a").getDeploy().getVersion()).isEqualTo("2");
    assertThat(hosts.count("b")).as("the second batch waits for the first").isZero();
    assertThat(phase(r, "a")).isEqualTo(HostPhase.SENT);

    List<Duration> wakeUps = new java.util.ArrayList<>();
    context.wakeUpWith((id, delay) -> wakeUps.add(delay));
    report(r, "a", "DOWNLOADING");
    report(r, "a", "ACTIVE");
    assertThat(hosts.count("b")).as("the health gate holds the next batch").isZero();
    assertThat(wakeUps).as("the gate's end is timed, not left to the next tick").containsExactly(Duration.ofSeconds(30));
    clock.advance(Duration.ofSeconds(30));
    r.advance(); // what the timer does at the gate's end
    assertThat(r.batchIndex()).isEqualTo(1);
    assertThat(hosts.last("b").getDeploy().getVersion()).isEqualTo("2");

    report(r, "b", "ACTIVE");
    clock.advance(Duration.ofSeconds(31));
    r.tick();
    assertThat(r.state()).isEqualTo(DeploymentState.COMPLETED);
    assertThat(stored(r).state()).isEqualTo("completed");
    assertThat(stored(r).hosts()).extracting(Deployment.Host::phase).containsOnly(HostPhase.ACTIVE);
  }

  @Test
  void theCanaryWaitsForAnAdminsApprovalAndAPauseHoldsAnyWaitingDeployment() {
    connect("a", "b");
    Rollout r = deploy(Map.of("canary", "1", "approveAfterCanary", "true", "batch", "1", "healthGate", "0s"), 0,
        List.of("a"), List.of("b"));
    report(r, "a", "ACTIVE");
    assertThat(r.state()).isEqualTo(DeploymentState.AWAITING_APPROVAL);
    assertThat(hosts.count("b")).isZero();

    r.control("pause", false, "", "alice");
    assertThat(r.state()).isEqualTo(DeploymentState.PAUSED);
    assertThatThrownBy(() -> r.control("approve", false, "", "alice"))
        .hasMessage("cannot approve deployment " + r.d.id() + ": it is paused (approve needs it awaiting_approval)");
    r.control("resume", false, "", "alice");
    assertThat(r.state()).as("resumed, it runs: the canary's batch is done").isEqualTo(DeploymentState.AWAITING_APPROVAL);

    r.control("approve", false, "", "alice");
    assertThat(hosts.last("b").getDeploy().getVersion()).isEqualTo("2");
    r.control("pause", false, "", "alice");
    report(r, "b", "ACTIVE");
    assertThat(r.state()).as("a report lands while paused; nothing ends").isEqualTo(DeploymentState.PAUSED);
    r.control("resume", false, "", "alice");
    assertThat(r.state()).isEqualTo(DeploymentState.COMPLETED);
  }

  @Test
  void aBatchOutsideItsEnvironmentsWindowWaitsUntilItOpensOrAnAdminGoesAheadWithAReason() {
    enroll("a", "b", "c");
    // Open for the first half hour from now, then closed until the same time tomorrow.
    LocalTime start = LocalTime.ofInstant(clock.instant(), ZoneOffset.UTC).truncatedTo(ChronoUnit.MINUTES);
    environments.apply("environments:\n  production:\n    selector: env=prod\n    windows:\n"
        + "      - {days: daily, start: \"" + start + "\", end: \"" + start.plusMinutes(30) + "\"}\n",
        "envs.yaml", false, "alice");
    connect("a", "b", "c");
    Rollout r = deploy(Map.of("canary", "0", "batch", "1", "healthGate", "0s"), 0, List.of("a"), List.of("b"),
        List.of("c"));
    clock.advance(Duration.ofHours(1));
    report(r, "a", "ACTIVE");
    assertThat(r.state()).isEqualTo(DeploymentState.WAITING_WINDOW);
    assertThat(stored(r).reason()).startsWith("waits for a change window: production is outside");
    assertThat(hosts.count("b")).isZero();

    // Paused and resumed, it runs, and finds the window still shut.
    r.control("pause", false, "", "alice");
    r.control("resume", false, "", "alice");
    assertThat(r.state()).isEqualTo(DeploymentState.WAITING_WINDOW);

    // The window opens the next day: the tick goes on by itself.
    clock.advance(Duration.ofHours(23).plusMinutes(1));
    r.tick();
    assertThat(r.state()).isEqualTo(DeploymentState.RUNNING);
    assertThat(hosts.last("b").getDeploy().getVersion()).isEqualTo("2");
    clock.advance(Duration.ofHours(1));
    report(r, "b", "ACTIVE");
    assertThat(r.state()).as("shut again before the third batch").isEqualTo(DeploymentState.WAITING_WINDOW);
    assertThatThrownBy(() -> r.control("resume", false, "", "alice"))
        .hasMessageContaining("rackroll deployment resume " + r.d.id() + " --reason TEXT");
    r.control("resume", false, "CVE-2026-1234", "alice");
    assertThat(stored(r).windowOverride()).isEqualTo("CVE-2026-1234");
    report(r, "c", "ACTIVE");
    assertThat(r.state()).isEqualTo(DeploymentState.COMPLETED);
  }

  // ---- the failure budget ----

  @Test
  void aSpentBudgetHaltsWaitsForHostsInFlightAndFails() {
    connect("a", "b", "c");
    Rollout r = deploy(Map.of("canary", "0", "batch", "3", "healthGate", "0s", "autoRollback", "false"), 0,
        List.of("a", "b", "c"));
    report(r, "a", "ROLLED_BACK");
    assertThat(r.state()).isEqualTo(DeploymentState.HALTING);
    assertThat(stored(r).reason()).startsWith("failure budget spent: 1 host(s) failed, 0 allowed");
    report(r, "b", "ACTIVE");
    assertThat(r.state()).as("c is still in flight").isEqualTo(DeploymentState.HALTING);
    report(r, "c", "FAILED");
    assertThat(r.state()).isEqualTo(DeploymentState.FAILED);
  }

  @Test
  void aHaltingDeploymentMayBeAbortedOrRolledBackByAnAdmin() {
    connect("a", "b", "c", "d", "e");
    Rollout aborted = deploy(Map.of("canary", "0", "batch", "2", "healthGate", "0s", "autoRollback", "false"), 0,
        List.of("a", "b"));
    report(aborted, "a", "FAILED");
    aborted.control("abort", false, "", "alice");
    assertThat(aborted.state()).isEqualTo(DeploymentState.ABORTING);
    report(aborted, "b", "ACTIVE");
    assertThat(aborted.state()).isEqualTo(DeploymentState.ABORTED);

    Rollout back = deploy(Map.of("canary", "0", "batch", "3", "healthGate", "0s", "autoRollback", "false"), 0,
        List.of("c", "d", "e"));
    report(back, "c", "ACTIVE");
    report(back, "d", "FAILED");
    assertThat(back.state()).as("e is in flight").isEqualTo(DeploymentState.HALTING);
    back.control("abort", true, "", "alice");
    assertThat(back.state()).isEqualTo(DeploymentState.ROLLING_BACK);
    assertThat(hosts.count("c")).as("nothing is returned while a host is in flight").isEqualTo(1);
    report(back, "e", "ACTIVE");
    assertThat(hosts.last("c").getRollback().getToVersion()).isEqualTo("1");
    assertThat(hosts.last("c").getRollback().getDeploymentId()).isEqualTo(back.d.id() + HostCommands.REVERT);
    assertThat(hosts.last("e").hasRollback()).isTrue();
    revertReport(back, "c", "ACTIVE", "1");
    revertReport(back, "e", "ACTIVE", "1");
    assertThat(back.state()).isEqualTo(DeploymentState.ROLLED_BACK);
    assertThat(stored(back).hosts()).filteredOn(h -> h.agentId().equals("c")).extracting(Deployment.Host::revert)
        .containsExactly("REVERTED");
  }

  @Test
  void aSpentBudgetWithAutoRollbackReturnsChangedHostsAndARevertThatFailsIsNamed() {
    connect("a", "b", "c");
    Rollout r = deploy(Map.of("canary", "0", "batch", "3", "healthGate", "0s"), 0, List.of("a", "b", "c"));
    report(r, "a", "ACTIVE");
    report(r, "b", "ACTIVE");
    report(r, "c", "ROLLED_BACK");
    assertThat(r.state()).isEqualTo(DeploymentState.ROLLING_BACK);
    assertThat(hosts.last("a").hasRollback()).isTrue();
    assertThat(hosts.last("b").hasRollback()).isTrue();
    assertThat(hosts.last("c").hasRollback()).as("c never changed").isFalse();
    revertReport(r, "a", "ACTIVE", "1");
    revertReport(r, "b", "FAILED", "2");
    assertThat(r.state()).isEqualTo(DeploymentState.ROLLBACK_FAILED);
  }

  @Test
  void aSpentBudgetThatLeftNothingChangedFailsAndAHostThatFinishesLateIsStillSentBack() {
    connect("a", "b", "c");
    Rollout r = deploy(Map.of("canary", "0", "batch", "2", "healthGate", "0s", "hostTimeout", "1m"), 0,
        List.of("a", "b"), List.of("c"));
    report(r, "a", "FAILED");
    report(r, "b", "DOWNLOADING");
    assertThat(r.state()).as("b is in flight").isEqualTo(DeploymentState.ROLLING_BACK);
    clock.advance(Duration.ofSeconds(61));
    r.tick();

    // a never changed, b went quiet: nothing to take back, so the deployment failed, not rolled back.
    assertThat(r.state()).isEqualTo(DeploymentState.FAILED);
    assertThat(stored(r).state()).isEqualTo("failed");
    assertThat(phase(r, "c")).isEqualTo(HostPhase.PENDING);
    assertThat(hosts.count("c")).isZero();
    assertThat(hosts.count("a")).as("nothing sent back to a").isEqualTo(1);

    // b wakes up and finishes: the deployment's verdict stands, and b is returned to its release before.
    report(r, "b", "ACTIVE");
    assertThat(revert(r, "b")).isEqualTo("SENT");
    assertThat(hosts.last("b").getRollback().getToVersion()).isEqualTo("1");
    revertReport(r, "b", "ACTIVE", "1");
    assertThat(revert(r, "b")).isEqualTo("REVERTED");
    assertThat(stored(r).state()).isEqualTo("failed");
  }

  @Test
  void aHostPausedInFlightThatFailsSpendsTheBudgetAndAnOfflineHostIsRevertedWhenItReturns() {
    connect("a", "b");
    Rollout halted = deploy(Map.of("canary", "0", "batch", "2", "healthGate", "0s", "autoRollback", "false"), 0,
        List.of("a", "b"));
    halted.control("pause", false, "", "alice");
    report(halted, "a", "FAILED");
    assertThat(halted.state()).isEqualTo(DeploymentState.HALTING);
    report(halted, "b", "ACTIVE");
    assertThat(halted.state()).isEqualTo(DeploymentState.FAILED);

    connect("c", "d");
    Rollout back = deploy(Map.of("canary", "0", "batch", "2", "healthGate", "0s"), 0, List.of("c", "d"));
    report(back, "c", "ACTIVE");
    back.control("pause", false, "", "alice");
    hosts.connected.remove("c");
    report(back, "d", "FAILED");
    assertThat(back.state()).isEqualTo(DeploymentState.ROLLING_BACK);
    assertThat(revert(back, "c")).as("not connected: reverted when it returns").isEqualTo("PENDING");
    hosts.connected.add("c");
    back.connected("c");
    assertThat(revert(back, "c")).isEqualTo("SENT");
    assertThat(hosts.last("c").getRollback().getToVersion()).isEqualTo("1");
    revertReport(back, "c", "ACTIVE", "1");
    assertThat(back.state()).isEqualTo(DeploymentState.ROLLED_BACK);
  }

  @Test
  void aRevertNobodyAnswersFailsAtTheHostTimeout() {
    connect("a", "b", "c");
    Rollout r = deploy(Map.of("canary", "0", "batch", "3", "healthGate", "0s", "hostTimeout", "1m"), 0,
        List.of("a", "b", "c"));
    report(r, "a", "ACTIVE");
    report(r, "b", "ACTIVE");
    hosts.connected.remove("b");
    report(r, "c", "FAILED");
    assertThat(revert(r, "a")).isEqualTo("SENT");
    assertThat(revert(r, "b")).isEqualTo("PENDING");
    clock.advance(Duration.ofMinutes(2));
    r.tick();
    assertThat(revert(r, "a")).isEqualTo("FAILED");
    assertThat(revert(r, "b")).isEqualTo("FAILED");
    assertThat(r.state()).isEqualTo(DeploymentState.ROLLBACK_FAILED);
  }

  @Test
  void aRevertCountedFailedForNoAnswerThatArrivesLateIsRecordedAsReverted() {
    connect("a", "b");
    Rollout r = deploy(Map.of("canary", "0", "batch", "2", "healthGate", "0s", "hostTimeout", "1m"), 0,
        List.of("a", "b"));
    report(r, "a", "ACTIVE");
    report(r, "b", "ROLLED_BACK");
    assertThat(revert(r, "a")).isEqualTo("SENT");
    clock.advance(Duration.ofMinutes(2)); // a froze before it could answer
    r.tick();
    assertThat(revert(r, "a")).isEqualTo("FAILED");
    assertThat(r.state()).isEqualTo(DeploymentState.ROLLBACK_FAILED);

    revertReport(r, "a", "ACTIVE", "1"); // a wakes up and does what it was told
    assertThat(revert(r, "a")).isEqualTo("REVERTED");
    assertThat(r.state()).as("an ended deployment stays ended").isEqualTo(DeploymentState.ROLLBACK_FAILED);
    assertThat(store.deployments().transitions(r.d.id())).filteredOn(t -> t.agentId().equals("a"))
        .extracting(t -> t.detail()).last().asString().endsWith("after its revert was counted failed");
  }

  @Test
  void aHostThatWakesUpAfterItsDeploymentRolledBackIsSentBackAndItsRealEndIsRecorded() {
    connect("a", "b", "c");
    Rollout r = deploy(Map.of("canary", "0", "batch", "3", "healthGate", "0s", "hostTimeout", "1m"), 0,
        List.of("a", "b", "c"));
    report(r, "a", "ACTIVE");
    report(r, "b", "ACTIVE");
    clock.advance(Duration.ofMinutes(2)); // c is frozen mid-install
    r.tick();
    assertThat(phase(r, "c")).isEqualTo(HostPhase.TIMED_OUT);
    revertReport(r, "a", "ACTIVE", "1");
    revertReport(r, "b", "ACTIVE", "1");
    assertThat(r.state()).isEqualTo(DeploymentState.ROLLED_BACK);
    assertThat(revert(r, "c")).as("c never took 2, so nothing to send back").isEmpty();

    // c wakes up and finishes the install: news. Its real end is recorded, and it is sent back.
    report(r, "c", "ACTIVE");
    report(r, "c", "ACTIVE"); // and again after a reconnect
    assertThat(phase(r, "c")).as("the deployment's count stands").isEqualTo(HostPhase.TIMED_OUT);
    assertThat(store.deployments().transitions(r.d.id())).filteredOn(t -> t.agentId().equals("c"))
        .extracting(t -> t.phase()).containsOnlyOnce("LATE_ACTIVE");
    assertThat(revert(r, "c")).isEqualTo("SENT");
    assertThat(hosts.last("c").getRollback().getToVersion()).isEqualTo("1");
    revertReport(r, "c", "ACTIVE", "1");
    assertThat(revert(r, "c")).isEqualTo("REVERTED");

    // It drifts to 2 again by itself (a job it resumed): sent back again; a revert that fails is
    // tried again at the next such report.
    report(r, "c", "ACTIVE");
    assertThat(revert(r, "c")).isEqualTo("SENT");
    revertReport(r, "c", "FAILED", "2");
    assertThat(revert(r, "c")).isEqualTo("FAILED");
    report(r, "c", "ACTIVE");
    assertThat(revert(r, "c")).isEqualTo("SENT");
    assertThat(r.state()).as("an ended deployment stays ended").isEqualTo(DeploymentState.ROLLED_BACK);
  }

  @Test
  void aHostThatRolledBackByItselfWithinItsBakeTimeCountsAsFailedAndIsRecordedAfterTheEnd() {
    connect("a", "b");
    Rollout r = deploy(Map.of("canary", "0", "batch", "1", "healthGate", "1m", "maxFailures", "1"), 1,
        List.of("a"), List.of("b"));
    report(r, "a", "ACTIVE");
    r.rolledBackByItself("a", "1");
    assertThat(phase(r, "a")).isEqualTo(HostPhase.UNHEALTHY);
    assertThat(revert(r, "a")).as("it is back already: nothing to send").isEmpty();
    assertThat(r.failures()).isEqualTo(1);

    clock.advance(Duration.ofMinutes(2));
    r.tick();
    report(r, "b", "ACTIVE");
    clock.advance(Duration.ofMinutes(2));
    r.tick();
    assertThat(r.state()).isEqualTo(DeploymentState.COMPLETED);
    r.rolledBackByItself("b", "1"); // later, with the controller perhaps away
    r.rolledBackByItself("b", "1"); // reported again at a reconnect
    assertThat(phase(r, "b")).isEqualTo(HostPhase.ACTIVE);
    assertThat(store.deployments().transitions(r.d.id())).filteredOn(t -> t.agentId().equals("b"))
        .extracting(t -> t.phase()).containsOnlyOnce("BAKE_ROLLED_BACK");
  }

  // ---- an admin's abort from every state it may come from ----

  @Test
  void anAbortEndsAnyRunningOrWaitingDeploymentWithOrWithoutReturningItsHosts() {
    enroll("w1", "w2", "w3", "w4");
    LocalTime start = LocalTime.ofInstant(clock.instant(), ZoneOffset.UTC).truncatedTo(ChronoUnit.MINUTES);
    environments.apply("environments:\n  production:\n    selector: env=prod\n    windows:\n"
        + "      - {days: daily, start: \"" + start + "\", end: \"" + start.plusMinutes(30) + "\"}\n",
        "envs.yaml", false, "alice");
    Map<String, String> options = Map.of("canary", "1", "approveAfterCanary", "true", "batch", "1",
        "healthGate", "0s");
    List<String> aborted = new ArrayList<>();
    for (boolean rollback : new boolean[] {false, true}) {
      String p = rollback ? "r" : "n";
      connect(p + "1", p + "2", p + "3", p + "4", p + "5", p + "6");
      Rollout running = deploy(options, 0, List.of(p + "1"), List.of(p + "2"));
      Rollout awaiting = deploy(options, 0, List.of(p + "3"), List.of(p + "4"));
      report(awaiting, p + "3", "ACTIVE");
      Rollout paused = deploy(options, 0, List.of(p + "5"), List.of(p + "6"));
      paused.control("pause", false, "", "alice");
      for (Rollout r : List.of(running, awaiting, paused)) {
        r.control("abort", rollback, "", "alice");
        aborted.add(r.d.id());
      }
      assertThat(running.state()).isEqualTo(rollback ? DeploymentState.ROLLING_BACK : DeploymentState.ABORTING);
      assertThat(awaiting.state()).isEqualTo(rollback ? DeploymentState.ROLLING_BACK : DeploymentState.ABORTED);
      report(running, p + "1", "ACTIVE");
      report(paused, p + "5", "ACTIVE");
      if (rollback) {
        for (Rollout r : List.of(running, awaiting, paused)) {
          String host = r == running ? p + "1" : r == awaiting ? p + "3" : p + "5";
          revertReport(r, host, "ACTIVE", "1");
          assertThat(r.state()).isEqualTo(DeploymentState.ROLLED_BACK);
        }
      } else {
        assertThat(List.of(running.state(), awaiting.state(), paused.state())).containsOnly(DeploymentState.ABORTED);
      }
    }
    // Waiting for a window: its hosts are enrolled in production, shut an hour from now.
    connect("w1", "w2", "w3", "w4");
    Rollout plain = deploy(Map.of("canary", "0", "batch", "1", "healthGate", "0s"), 0, List.of("w1"), List.of("w2"));
    Rollout back = deploy(Map.of("canary", "0", "batch", "1", "healthGate", "0s"), 0, List.of("w3"), List.of("w4"));
    clock.advance(Duration.ofHours(1));
    report(plain, "w1", "ACTIVE");
    report(back, "w3", "ACTIVE");
    assertThat(List.of(plain.state(), back.state())).containsOnly(DeploymentState.WAITING_WINDOW);
    plain.control("abort", false, "", "alice");
    back.control("abort", true, "", "alice");
    assertThat(plain.state()).isEqualTo(DeploymentState.ABORTED);
    revertReport(back, "w3", "ACTIVE", "1");
    assertThat(back.state()).isEqualTo(DeploymentState.ROLLED_BACK);
    assertThatThrownBy(() -> plain.control("pause", false, "", "alice")).hasMessageContaining("it is aborted");
  }

  // ---- hosts: reports, timeouts, the gate ----

  @Test
  void reportsTheTableDoesNotAllowChangeNothing() {
    connect("a", "b");
    Rollout r = deploy(Map.of("canary", "0", "batch", "1", "healthGate", "0s", "hostTimeout", "1m"), 1,
        List.of("a"), List.of("b"));
    report(r, "b", "ACTIVE");
    assertThat(phase(r, "b")).as("b was never sent its command").isEqualTo(HostPhase.PENDING);
    report(r, "a", "REBOOTING");
    assertThat(phase(r, "a")).as("a phase of a newer agent").isEqualTo(HostPhase.SENT);
    report(r, "a", "DOWNLOADING");
    clock.advance(Duration.ofMinutes(2));
    r.tick();
    assertThat(phase(r, "a")).isEqualTo(HostPhase.TIMED_OUT);
    report(r, "a", "ACTIVE");
    assertThat(phase(r, "a")).as("a late report after the timeout").isEqualTo(HostPhase.TIMED_OUT);
  }

  @Test
  void anActiveHostThatFailsItsHealthGateIsCountedAndReturned() {
    connect("a", "b");
    Rollout r = deploy(Map.of("canary", "0", "batch", "1", "healthGate", "1m", "maxFailures", "1"), 1,
        List.of("a"), List.of("b"));
    report(r, "a", "ACTIVE");
    r.unhealthy("a", "http://localhost:8080/health: 503");
    assertThat(phase(r, "a")).isEqualTo(HostPhase.UNHEALTHY);
    assertThat(revert(r, "a")).isEqualTo("SENT");
    assertThat(hosts.last("a").getRollback().getToVersion()).isEqualTo("1");
    assertThat(r.failures()).isEqualTo(1);
    assertThat(r.state()).as("within the budget").isEqualTo(DeploymentState.RUNNING);
  }

  @Test
  void aHostSilentInItsHealthGateFailsItAndSoDoesOneStillSilentAtItsEnd() {
    connect("a", "b", "c", "d");
    Rollout r = deploy(Map.of("canary", "0", "batch", "2", "healthGate", "1m", "maxFailures", "2", "hostTimeout", "1m"),
        2, List.of("a", "b"), List.of("c", "d"));
    report(r, "a", "ACTIVE");
    report(r, "b", "ACTIVE");
    // a froze: the registry found it stale and said so.
    hosts.silent.add("a");
    r.silent("a");
    assertThat(phase(r, "a")).isEqualTo(HostPhase.UNHEALTHY);
    assertThat(stored(r).hosts()).filteredOn(h -> h.agentId().equals("a")).singleElement()
        .satisfies(h -> assertThat(h.failure()).isEqualTo("silent during the 1m health gate (no heartbeat)"));
    assertThat(revert(r, "a")).isEqualTo("SENT");
    // b goes silent too, and the gate ends before any event about it: the end of the gate waits up
    // to --host-timeout for b to be heard from, then fails it.
    hosts.silent.add("b");
    clock.advance(Duration.ofSeconds(90));
    r.tick();
    assertThat(phase(r, "b")).as("waited for").isEqualTo(HostPhase.ACTIVE);
    assertThat(r.batchIndex()).as("and the next batch with it").isZero();
    clock.advance(Duration.ofSeconds(60));
    r.tick();
    assertThat(phase(r, "b")).isEqualTo(HostPhase.UNHEALTHY);
    assertThat(stored(r).hosts()).filteredOn(h -> h.agentId().equals("b")).singleElement()
        .satisfies(h -> assertThat(h.failure()).isEqualTo("silent since the end of the 1m health gate (1m,"
            + " --host-timeout)"));
    assertThat(r.batchIndex()).as("within the budget, the next batch starts").isEqualTo(1);
    assertThat(hosts.count("c")).isEqualTo(1);
  }

  @Test
  void anOfflineHostIsWaitedForSkippedOrFailedAsTheStrategySays() {
    connect("a");
    Rollout waits = deploy(Map.of("canary", "0", "batch", "2", "healthGate", "0s", "hostTimeout", "1m",
        "maxFailures", "1"), 1, List.of("a", "gone"));
    assertThat(phase(waits, "gone")).isEqualTo(HostPhase.WAITING);
    hosts.connected.add("gone");
    waits.connected("gone");
    report(waits, "a", "ACTIVE");
    assertThat(phase(waits, "gone")).as("sent once it connected and the loop went on").isEqualTo(HostPhase.SENT);
    hosts.connected.remove("gone");

    Rollout skips = deploy(Map.of("canary", "0", "batch", "1", "healthGate", "0s", "offline", "skip"), 0,
        List.of("away"));
    assertThat(phase(skips, "away")).isEqualTo(HostPhase.SKIPPED);
    assertThat(skips.state()).isEqualTo(DeploymentState.COMPLETED);
    Rollout fails = deploy(Map.of("canary", "0", "batch", "1", "healthGate", "0s", "offline", "fail",
        "autoRollback", "false"), 0, List.of("away2"));
    assertThat(phase(fails, "away2")).isEqualTo(HostPhase.UNREACHABLE);
    assertThat(fails.state()).isEqualTo(DeploymentState.FAILED);
  }

  // ---- helpers ----

  private void connect(String... agents) {
    hosts.connected.addAll(List.of(agents));
  }

  /** Enrolls {@code agents} labelled env=prod, so an environment's windows apply to them. */
  private void enroll(String... agents) {
    String token = "tok" + agents[0];
    store.enrollment().createToken(new NewToken(token, "hash", Map.of("env", "prod"), T0.plus(Duration.ofDays(1)),
        agents.length, T0, "alice"));
    for (String a : agents) {
      store.enrollment().enroll(new Enrollment(a, Map.of("env", "prod"), token, "serial-" + a,
          T0.plus(Duration.ofDays(90)), T0));
    }
  }

  /** A deployment of web@2 over hosts that run web@1, planned into {@code batches}, started. */
  @SafeVarargs
  private Rollout deploy(Map<String, String> options, int allowedFailures, List<String>... batches) {
    String id = "d-" + (stored().size() + 1);
    Strategy strategy = Strategy.of(options, Strategy.DEPLOY_DEFAULTS);
    List<Deployment.Host> planned = new ArrayList<>();
    Map<String, HostApp> apps = new LinkedHashMap<>();
    for (int b = 0; b < batches.length; b++) {
      for (String agent : batches[b]) {
        planned.add(new Deployment.Host(agent, agent, "rack-" + agent, b, HostPhase.PENDING, "", "", "2", "1", "", "",
            clock.instant()));
        apps.put(agent, new HostApp(agent, "web", "1", "", List.of("1"), "ACTIVE", "healthy", ""));
      }
    }
    Deployment d = new Deployment(id, "deploy", "web", "2", "env=prod", "alice", clock.instant(),
        strategy.toOptions(), "running", 0, batches.length, allowedFailures, "", clock.instant(), "", "", Map.of(),
        planned);
    store.deployments().createDeployment(d);
    Rollout r = new Rollout(d, strategy, apps, context);
    r.advance();
    return r;
  }

  private List<Deployment> stored() {
    return store.deployments().recent(1000);
  }

  private Deployment stored(Rollout r) {
    return store.deployments().deployment(r.d.id()).orElseThrow();
  }

  /** What the store holds for the host: the in-memory view must agree with it. */
  private HostPhase phase(Rollout r, String agent) {
    HostPhase held = r.host(agent).orElseThrow().phase();
    assertThat(stored(r).hosts()).filteredOn(h -> h.agentId().equals(agent)).extracting(Deployment.Host::phase)
        .as("stored phase of " + agent).containsExactly(held);
    return held;
  }

  private String revert(Rollout r, String agent) {
    String held = r.host(agent).orElseThrow().revert();
    assertThat(stored(r).hosts()).filteredOn(h -> h.agentId().equals(agent)).extracting(Deployment.Host::revert)
        .containsExactly(held);
    return held;
  }

  /** The host's agent reports {@code phase} of its job (on web@2 once active, else on web@1). */
  private static void report(Rollout r, String agent, String phase) {
    boolean failed = phase.equals("ROLLED_BACK") || phase.equals("FAILED");
    r.reported(agent, false, phase, failed ? "health_failed" : "", failed ? "health check failed" : "", "2",
        Optional.of(phase.equals("ACTIVE") ? "2" : "1"));
  }

  /** The host's agent reports {@code phase} of the revert it was sent, now on {@code version}. */
  private static void revertReport(Rollout r, String agent, String phase, String version) {
    r.reported(agent, true, phase, phase.equals("ACTIVE") ? "" : "rollback_failed",
        phase.equals("ACTIVE") ? "" : "activate exited 1", version, Optional.of(version));
  }

  /** The deployments' store, recording every deployment state and revert state move as it is written. */
  private static DeploymentStore recording(DeploymentStore real) {
    Map<String, String> states = new ConcurrentHashMap<>();
    Map<String, String> reverts = new ConcurrentHashMap<>();
    return (DeploymentStore) Proxy.newProxyInstance(DeploymentStore.class.getClassLoader(),
        new Class<?>[] {DeploymentStore.class},
        (proxy, method, args) -> {
          switch (method.getName()) {
            case "createDeployment" -> states.put(((Deployment) args[0]).id(), ((Deployment) args[0]).state());
            case "deploymentState" -> {
              String was = states.put((String) args[0], (String) args[1]);
              if (!args[1].equals(was)) {
                DEPLOYMENT_MOVES.add(was + " -> " + args[1]);
              }
            }
            case "hostRevert" -> {
              String was = reverts.put(args[0] + "/" + args[1], (String) args[2]);
              RevertState from = RevertState.of(was == null ? "" : was);
              REVERT_MOVES.add(from + " -> " + RevertState.of((String) args[2]));
            }
            default -> { }
          }
          try {
            return method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }
}
