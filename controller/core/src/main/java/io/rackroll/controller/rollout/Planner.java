package io.rackroll.controller.rollout;

import io.rackroll.controller.strategy.Strategy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;

/**
 * Cuts the selected hosts into batches. Deterministic: hosts are ordered by failure domain, then
 * hostname, then id, so the same fleet and options always give the same plan, and {@code rackroll
 * plan} shows exactly what {@code rackroll deploy} will do.
 *
 * <p>Rules, in order: hosts already running the target release and healthy are skipped; hosts
 * that cannot take the release (its {@code requires} against their facts) are skipped under
 * {@code --skip-unfit}, else listed as unfit; offline hosts are skipped under {@code --offline skip}; the canary is the first batch on its own; with
 * {@code --by-rack} each following batch is one whole failure domain, otherwise batches of
 * {@code --batch} hosts. {@code --max-per-rack N} caps every batch (the canary included) at N
 * hosts of one domain; a batch takes the first hosts in order that fit, so racks interleave.
 * Hosts without the failure-domain label form one domain of their own, named "".
 */
public final class Planner {
  private Planner() {}

  /**
   * One selected host as the planner sees it.
   *
   * @param domain the value of the failure-domain label, "" without one
   * @param offlineSince empty when connected, else since when it is not (for the operator)
   * @param unchanged why the host needs no change (it already runs the target release and its
   *     last health was good, say); empty when it does
   * @param unfit why the host cannot take the release, by its reported facts (the release's
   *     {@code requires}); empty when it can
   */
  public record Candidate(String agentId, String hostname, String domain, String offlineSince,
      String unchanged, String unfit) {
    public Candidate(String agentId, String hostname, String domain, String offlineSince, String unchanged) {
      this(agentId, hostname, domain, offlineSince, unchanged, "");
    }

    public boolean connected() {
      return offlineSince.isEmpty();
    }
  }

  /** A host left out, and why. */
  public record Skip(Candidate host, String reason) {}

  /**
   * Batches of hosts to change, in order; skipped hosts; failures the budget allows.
   *
   * @param unfit hosts that cannot take the release, without {@code --skip-unfit}: a plan with any
   *     is shown, never started
   * @param strategy what it was planned with, settled: the options it runs with
   */
  public record Plan(List<List<Candidate>> batches, List<Skip> skipped, List<Skip> unfit, int allowedFailures,
      boolean canary, Strategy strategy) {
    public int hostCount() {
      return batches.stream().mapToInt(List::size).sum();
    }
  }

  static final Comparator<Candidate> ORDER = Comparator.comparing(Candidate::domain)
      .thenComparing(Candidate::hostname).thenComparing(Candidate::agentId);

  public static Plan plan(List<Candidate> selected, Strategy s) {
    List<Skip> skipped = new ArrayList<>();
    List<Skip> unfit = new ArrayList<>();
    List<Candidate> eligible = new ArrayList<>();
    for (Candidate c : selected.stream().sorted(ORDER).toList()) {
      if (!c.unchanged().isEmpty()) {
        skipped.add(new Skip(c, c.unchanged()));
      } else if (!c.unfit().isEmpty()) {
        (s.skipUnfit() ? skipped : unfit).add(new Skip(c, c.unfit() + (s.skipUnfit() ? " (--skip-unfit)" : "")));
      } else if (!c.connected() && s.offline() == Strategy.Offline.SKIP) {
        skipped.add(new Skip(c, "offline since " + c.offlineSince() + " (--offline skip)"));
      } else {
        eligible.add(c);
      }
    }
    int n = eligible.size();
    LinkedList<Candidate> remaining = new LinkedList<>(eligible);
    List<List<Candidate>> batches = new ArrayList<>();
    int canary = s.canary().ceilOf(n);
    if (canary > 0 && n > 0) {
      batches.add(take(remaining, canary, s.maxPerRack()));
    }
    if (s.byRack()) {
      Map<String, List<Candidate>> byDomain = new LinkedHashMap<>();
      remaining.forEach(c -> byDomain.computeIfAbsent(c.domain(), d -> new ArrayList<>()).add(c));
      for (List<Candidate> domain : byDomain.values()) {
        int cap = s.maxPerRack() > 0 ? s.maxPerRack() : domain.size();
        for (int i = 0; i < domain.size(); i += cap) {
          batches.add(List.copyOf(domain.subList(i, Math.min(domain.size(), i + cap))));
        }
      }
    } else {
      int size = Math.max(1, s.batch().ceilOf(n));
      while (!remaining.isEmpty()) {
        batches.add(take(remaining, size, s.maxPerRack()));
      }
    }
    return new Plan(List.copyOf(batches), List.copyOf(skipped), List.copyOf(unfit), s.maxFailures().floorOf(n), canary > 0 && n > 0, s);
  }

  /** Removes and returns up to {@code size} hosts in order, at most {@code maxPerDomain} of one domain. */
  private static List<Candidate> take(LinkedList<Candidate> remaining, int size, int maxPerDomain) {
    List<Candidate> batch = new ArrayList<>();
    Map<String, Integer> perDomain = new HashMap<>();
    var it = remaining.iterator();
    while (it.hasNext() && batch.size() < size) {
      Candidate c = it.next();
      if (maxPerDomain > 0 && perDomain.getOrDefault(c.domain(), 0) >= maxPerDomain) {
        continue;
      }
      perDomain.merge(c.domain(), 1, Integer::sum);
      batch.add(c);
      it.remove();
    }
    return List.copyOf(batch);
  }
}
