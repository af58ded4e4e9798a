package io.rackroll.controller.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.controller.rollout.Planner.Candidate;
import io.rackroll.controller.rollout.Planner.Plan;
import io.rackroll.controller.strategy.Strategy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PlannerTest {
  /** {@code racks} racks named r1.. of {@code perRack} connected hosts each, named r1-h01... */
  private static List<Candidate> fleet(int racks, int perRack) {
    List<Candidate> hosts = new ArrayList<>();
    for (int r = 1; r <= racks; r++) {
      for (int h = 1; h <= perRack; h++) {
        String name = "r" + r + "-h" + String.format("%02d", h);
        hosts.add(new Candidate("ag-" + name, name, "r" + r, "", ""));
      }
    }
    return hosts;
  }

  private static Strategy strategy(String... pairs) {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      options.put(pairs[i], pairs[i + 1]);
    }
    return Strategy.of(options, Strategy.DEPLOY_DEFAULTS);
  }

  private static List<List<String>> names(Plan plan) {
    return plan.batches().stream().map(b -> b.stream().map(Candidate::hostname).toList()).toList();
  }

  private static List<Integer> sizes(Plan plan) {
    return plan.batches().stream().map(List::size).toList();
  }

  @Test
  void defaultsAreOneCanaryThenTenPercentBatchesRoundedUp() {
    Plan plan = Planner.plan(fleet(2, 10), strategy());
    assertThat(plan.canary()).isTrue();
    assertThat(sizes(plan)).containsExactly(1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1);
    assertThat(plan.hostCount()).isEqualTo(20);
    assertThat(plan.allowedFailures()).isZero();
  }

  @Test
  void percentagesRoundUpForBatchesAndNeverBelowOne() {
    assertThat(sizes(Planner.plan(fleet(1, 10), strategy("batch", "30%", "canary", "0"))))
        .containsExactly(3, 3, 3, 1);
    assertThat(sizes(Planner.plan(fleet(1, 5), strategy("batch", "10%", "canary", "0"))))
        .containsExactly(1, 1, 1, 1, 1);
    assertThat(sizes(Planner.plan(fleet(1, 5), strategy("batch", "100%", "canary", "20%"))))
        .containsExactly(1, 4);
    assertThat(sizes(Planner.plan(fleet(1, 3), strategy("batch", "10", "canary", "5"))))
        .as("a canary larger than the fleet is the whole fleet").containsExactly(3);
  }

  @Test
  void failureBudgetsRoundDown() {
    assertThat(Planner.plan(fleet(1, 5), strategy("maxFailures", "10%")).allowedFailures()).isZero();
    assertThat(Planner.plan(fleet(1, 5), strategy("maxFailures", "50%")).allowedFailures()).isEqualTo(2);
    assertThat(Planner.plan(fleet(1, 5), strategy("maxFailures", "2")).allowedFailures()).isEqualTo(2);
    assertThat(Planner.plan(fleet(1, 5), strategy("maxFailures", "100%")).allowedFailures()).isEqualTo(5);
  }

  @Test
  void maxPerRackCapsEveryBatchAndInterleavesRacks() {
    Plan plan = Planner.plan(fleet(2, 3), strategy("batch", "2", "maxPerRack", "1"));
    assertThat(names(plan)).containsExactly(
        List.of("r1-h01"),
        List.of("r1-h02", "r2-h01"),
        List.of("r1-h03", "r2-h02"),
        List.of("r2-h03"));
    Plan wide = Planner.plan(fleet(3, 20), strategy("batch", "50%", "maxPerRack", "2", "canary", "3"));
    for (List<Candidate> batch : wide.batches()) {
      Map<String, Integer> perRack = new HashMap<>();
      batch.forEach(c -> perRack.merge(c.domain(), 1, Integer::sum));
      assertThat(perRack.values()).allMatch(n -> n <= 2);
    }
    assertThat(wide.hostCount()).isEqualTo(60);
    assertThat(sizes(wide).get(0)).isEqualTo(3);
  }

  @Test
  void byRackChangesOneWholeRackPerBatchAfterTheCanary() {
    Plan plan = Planner.plan(fleet(3, 2), strategy("byRack", "true"));
    assertThat(names(plan)).containsExactly(
        List.of("r1-h01"),
        List.of("r1-h02"),
        List.of("r2-h01", "r2-h02"),
        List.of("r3-h01", "r3-h02"));
    Plan capped = Planner.plan(fleet(1, 5), strategy("byRack", "true", "canary", "0", "maxPerRack", "2"));
    assertThat(sizes(capped)).containsExactly(2, 2, 1);
  }

  @Test
  void healthyHostsOnTheTargetAndOfflineHostsUnderSkipAreLeftOutWithTheReason() {
    List<Candidate> hosts = new ArrayList<>(fleet(1, 3));
    hosts.set(0, new Candidate("ag-r1-h01", "r1-h01", "r1", "", "already runs web@2 and is healthy"));
    hosts.set(1, new Candidate("ag-r1-h02", "r1-h02", "r1", "2026-11-23T10:00:00Z", ""));

    Plan waiting = Planner.plan(hosts, strategy());
    assertThat(names(waiting)).containsExactly(List.of("r1-h02"), List.of("r1-h03"));
    assertThat(waiting.skipped()).singleElement().satisfies(s -> {
      assertThat(s.host().hostname()).isEqualTo("r1-h01");
      assertThat(s.reason()).isEqualTo("already runs web@2 and is healthy");
    });

    Plan skipping = Planner.plan(hosts, strategy("offline", "skip"));
    assertThat(names(skipping)).containsExactly(List.of("r1-h03"));
    assertThat(skipping.skipped()).extracting(Planner.Skip::reason)
        .containsExactly("already runs web@2 and is healthy", "offline since 2026-11-23T10:00:00Z (--offline skip)");
  }

  @Test
  void thePlanDependsOnTheFleetNotOnTheOrderHostsArriveIn() {
    List<Candidate> hosts = new ArrayList<>(fleet(4, 7));
    hosts.add(new Candidate("ag-x", "unlabelled", "", "", ""));
    Strategy s = strategy("batch", "3", "maxPerRack", "1", "canary", "2");
    Plan first = Planner.plan(hosts, s);
    for (int seed = 0; seed < 20; seed++) {
      Collections.shuffle(hosts, new Random(seed));
      assertThat(Planner.plan(hosts, s)).isEqualTo(first);
    }
    assertThat(first.batches().get(0)).extracting(Candidate::hostname)
        .as("hosts without the label sort first, as domain \"\"").containsExactly("unlabelled", "r1-h01");
  }

  @Test
  void nothingToDoIsAnEmptyPlan() {
    Plan plan = Planner.plan(List.of(new Candidate("ag-1", "h1", "r1", "", "already runs web@2 and is healthy")), strategy());
    assertThat(plan.batches()).isEmpty();
    assertThat(plan.canary()).isFalse();
    assertThat(plan.skipped()).hasSize(1);
  }

  @Test
  void hostsThatCannotTakeTheReleaseAreUnfitOrSkippedUnderSkipUnfitAndNeverInABatch() {
    List<Candidate> hosts = new ArrayList<>(fleet(1, 3));
    hosts.set(1, new Candidate("ag-r1-h02", "r1-h02", "r1", "", "", "needs 64 cores, has 4"));
    // A host already on the release is left alone whatever it is: nothing would be sent to it.
    hosts.set(2, new Candidate("ag-r1-h03", "r1-h03", "r1", "", "already runs web@2 and is healthy",
        "needs 64 cores, has 4"));

    Plan plain = Planner.plan(hosts, strategy());
    assertThat(names(plain)).containsExactly(List.of("r1-h01"));
    assertThat(plain.unfit()).singleElement().satisfies(u -> {
      assertThat(u.host().hostname()).isEqualTo("r1-h02");
      assertThat(u.reason()).isEqualTo("needs 64 cores, has 4");
    });
    assertThat(plain.skipped()).extracting(Planner.Skip::reason).containsExactly("already runs web@2 and is healthy");

    Plan skipping = Planner.plan(hosts, strategy("skipUnfit", "true"));
    assertThat(names(skipping)).containsExactly(List.of("r1-h01"));
    assertThat(skipping.unfit()).isEmpty();
    assertThat(skipping.skipped()).extracting(Planner.Skip::reason)
        .containsExactly("needs 64 cores, has 4 (--skip-unfit)", "already runs web@2 and is healthy");
    assertThat(skipping.allowedFailures()).isZero();
  }
}
