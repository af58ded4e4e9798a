package io.rackroll.controller.rollout;

import io.rackroll.controller.env.Environment;
import io.rackroll.controller.env.EnvironmentService;
import io.rackroll.controller.rollout.Planner.Candidate;
import io.rackroll.controller.rollout.Planner.Plan;
import io.rackroll.controller.rollout.Rollouts.Refused;
import io.rackroll.controller.rollout.Rollouts.Request;
import io.rackroll.controller.select.AgentAttributes;
import io.rackroll.controller.select.Selector;
import io.rackroll.controller.store.HostApp;
import io.rackroll.controller.store.ReportedFlags;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.store.StoredAgent;
import io.rackroll.controller.store.StoredRelease;
import io.rackroll.controller.strategy.Strategy;
import io.rackroll.release.HostFit;
import io.rackroll.release.Manifest.Requirements;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * From what an operator asked to a plan: the request's checks (the release exists, the selector
 * matches, every host has one environment, the windows are open, no host is in another running
 * deployment, every host can take the release by its reported facts unless {@code --skip-unfit}),
 * then each host's part, planned into batches by {@link Planner}. Reads, never writes.
 */
final class Planning {
  private final Store store;
  private final EnvironmentService environments;
  private final ChangeWindows windows;
  private final HostCommands hosts;

  Planning(Store store, EnvironmentService environments, ChangeWindows windows, HostCommands hosts) {
    this.store = store;
    this.environments = environments;
    this.windows = windows;
    this.hosts = hosts;
  }

  /**
   * A plan with what it was made from; {@code hostApps} is each host's app as it was; {@code
   * forced} what {@code --force} went past, if it did.
   */
  record Prepared(Plan plan, Map<String, HostApp> hostApps, Optional<String> forced) {
    String before(String agentId) {
      HostApp a = hostApps.get(agentId);
      return a == null ? "" : a.currentVersion();
    }

    String beforeConfig(String agentId) {
      HostApp a = hostApps.get(agentId);
      return a == null ? "" : a.configDigest();
    }
  }

  /**
   * Plans {@code request}, or refuses it with a message for the operator.
   *
   * @param starting whether it starts now (then closed change windows refuse it), not only shown
   * @param running the deployments running now, whose hosts no other may take
   */
  Prepared prepare(Request request, boolean starting, Collection<Rollout> running) {
    DeploymentKind kind = request.kindOf();
    Strategy strategy = Strategy.of(request.options(), kind.strategyDefaults());
    Optional<StoredRelease> release = kind.installs() ? store.releases().release(request.app(), request.version())
        : Optional.empty();
    if (kind.installs() && release.isEmpty()) {
      throw new Refused("no release " + request.release() + "; push it first with 'rackroll release push FILE'");
    }
    Requirements requires = release.map(StoredRelease::requires).orElse(Requirements.NONE);
    Selector selector = Selector.parse(request.selector());
    List<StoredAgent> chosen = store.agents().all().stream().filter(a -> selector.matches(AgentAttributes.of(a))).toList();
    if (chosen.isEmpty()) {
      throw new Refused("selector \"" + request.selector() + "\" matches no agents; check it with 'rackroll agents"
          + " --selector \"" + request.selector() + "\"'");
    }
    // An agent enrolled after the file was applied may match two environments: whose windows and
    // configuration would it get? Refused until the selectors are exclusive again (rollbacks go ahead).
    List<String> ambiguous = chosen.stream().filter(a -> kind.keepsToWindows()
            && environments.current().matching(a).size() > 1)
        .map(a -> a.id() + " (" + String.join(", ", environments.current().matching(a)) + ")").toList();
    if (!ambiguous.isEmpty()) {
      throw new Refused(ambiguous.size() + " selected agent(s) belong to more than one environment: "
          + String.join("; ", ambiguous.subList(0, Math.min(5, ambiguous.size()))) + (ambiguous.size() > 5 ? "; ..." : "")
          + "; make the selectors exclusive and apply the environments file again");
    }
    if (starting && !request.scope().isEmpty()) {
      outsideScope(request, chosen).ifPresent(why -> {
        throw new Rollouts.Forbidden(request.release(), why);
      });
    }
    // The way in before the time of day: with a window open, the deploy would still be refused.
    Optional<String> forced = Optional.empty();
    if (kind.installs() && request.environment().isEmpty()) {
      Optional<String> promotionOnly = promotionOnly(request, chosen);
      if (promotionOnly.isPresent() && starting && request.force().isEmpty()) {
        throw new Refused(promotionOnly.get() + ", or deploy anyway (audited): --force --reason TEXT");
      }
      forced = promotionOnly.filter(x -> !request.force().isEmpty());
    }
    if (starting && kind.keepsToWindows() && request.windowOverride().isEmpty()) {
      Optional<String> closed = windows.closedFor(chosen);
      if (closed.isPresent()) {
        throw new Refused(closed.get() + "; to " + kind.verb() + " now anyway (audited): --override-window --reason TEXT");
      }
    }
    for (Rollout r : running) {
      List<String> busy = chosen.stream().map(StoredAgent::id).filter(r::has).sorted().toList();
      if (!busy.isEmpty()) {
        throw new Refused(busy.size() + " selected host(s) (" + String.join(", ", busy.subList(0, Math.min(3,
            busy.size()))) + (busy.size() > 3 ? ", ..." : "") + ") are in running deployment " + r.d.id() + " of "
            + r.release() + "; wait for it to end or abort it with 'rackroll deployment abort " + r.d.id() + "'");
      }
    }
    Map<String, HostApp> apps = store.agents().hostApps(request.app());
    Map<String, ReportedFlags> flags = kind.changesFlags() ? store.agents().hostFlags(request.app()) : Map.of();
    Map<String, String> digests = new HashMap<>(); // an environment's hosts share its configuration
    List<Candidate> candidates = new ArrayList<>();
    for (StoredAgent a : chosen) {
      String unchanged = kind.unchanged(request.app(), request.version(), request.flags(), apps.get(a.id()),
          flags.containsKey(a.id()) ? flags.get(a.id()).flags() : Map.of(),
          () -> digests.computeIfAbsent(environments.current().of(a).map(Environment::name).orElse(""),
              n -> environments.configurationOf(a).digest()));
      String hostname = a.facts() == null ? "" : a.facts().getHostname();
      String offlineSince = hosts.connected(a.id()) ? "" : String.valueOf(a.stateSince());
      String unfit = a.facts() == null ? "" : String.join("; ", HostFit.unmet(requires, HostFit.Host.of(a.facts())));
      candidates.add(new Candidate(a.id(), hostname.isEmpty() ? a.id() : hostname,
          a.labels().getOrDefault(strategy.failureDomain(), ""), offlineSince, unchanged, unfit));
    }
    Plan plan = Planner.plan(candidates, strategy);
    if (starting && !plan.unfit().isEmpty()) {
      List<String> named = plan.unfit().stream().limit(3)
          .map(u -> u.host().agentId() + (u.host().hostname().equals(u.host().agentId()) ? "" : " on "
              + u.host().hostname()) + " (" + u.reason() + ")").toList();
      throw new Refused(plan.unfit().size() + " of " + chosen.size() + " selected host(s) cannot take "
          + request.release() + " by the facts they reported: " + String.join(", ", named)
          + (plan.unfit().size() > 3 ? ", ..." : "") + "; see them all with 'rackroll plan', and deploy to the"
          + " others with --skip-unfit or narrow the selector");
    }
    return new Prepared(plan, apps, forced);
  }

  /**
   * Why an admin limited to some environments may not reach {@code chosen}: some are in another
   * environment, or in none.
   */
  private Optional<String> outsideScope(Request request, List<StoredAgent> chosen) {
    Map<String, Integer> outside = new java.util.TreeMap<>();
    for (StoredAgent a : chosen) {
      String environment = environments.current().of(a).map(Environment::name).orElse("");
      if (!request.scope().contains(environment)) {
        outside.merge(environment.isEmpty() ? "no environment" : environment, 1, Integer::sum);
      }
    }
    if (outside.isEmpty()) {
      return Optional.empty();
    }
    List<String> where = outside.entrySet().stream().map(e -> e.getValue() + " host(s) of " + e.getKey()).toList();
    return Optional.of(request.release() + " would reach " + String.join(" and ",
        where) + ", but you may change only " + String.join(", ", new java.util.TreeSet<>(request.scope()))
        + "; narrow the selector to those environments, or ask an operator");
  }

  /**
   * Why a plain deploy may not reach {@code chosen}: some are in an environment that takes releases
   * by promotion only ({@code requirePromotion}), so a version never proven in the environment
   * before it cannot walk around the lifecycle.
   */
  private Optional<String> promotionOnly(Request request, List<StoredAgent> chosen) {
    Map<String, Integer> reached = new java.util.TreeMap<>();
    for (StoredAgent a : chosen) {
      environments.current().of(a).filter(Environment::requirePromotion)
          .ifPresent(e -> reached.merge(e.name(), 1, Integer::sum));
    }
    if (reached.isEmpty()) {
      return Optional.empty();
    }
    String first = reached.keySet().iterator().next();
    List<String> where = reached.entrySet().stream().map(e -> e.getValue() + " host(s) of " + e.getKey()).toList();
    return Optional.of(request.release() + " would reach " + String.join(" and ", where) + ", which take"
        + (reached.size() == 1 ? "s" : "") + " releases by promotion only (requirePromotion); promote it: rackroll"
        + " promote " + request.release() + " --to " + first);
  }
}
