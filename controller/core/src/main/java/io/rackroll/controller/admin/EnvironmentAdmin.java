package io.rackroll.controller.admin;

import io.rackroll.controller.auth.Admins;
import io.rackroll.controller.auth.CallerInterceptor;
import io.rackroll.controller.env.Environment;
import io.rackroll.controller.env.EnvironmentService;
import io.rackroll.controller.env.Environments;
import io.rackroll.controller.env.Schedule;
import io.rackroll.controller.fleet.AgentRegistry;
import io.rackroll.controller.release.ReleasePush;
import io.rackroll.controller.rollout.Promotions;
import io.rackroll.controller.rollout.Rollouts;
import io.rackroll.controller.select.Selector;
import io.rackroll.controller.store.AuditEntry;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.HostApp;
import io.rackroll.controller.store.ReportedFlags;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.store.DeploymentStore.EnvironmentRun;
import io.rackroll.controller.store.StoredAgent;
import io.rackroll.controller.store.StoredRelease;
import io.rackroll.proto.v1.EnvironmentDiffResponse;
import io.rackroll.proto.v1.EnvironmentRecord;
import io.rackroll.proto.v1.EnvironmentsRecord;
import io.rackroll.proto.v1.HostFlags;
import io.rackroll.proto.v1.PromoteRequest;
import io.rackroll.proto.v1.ReconfigureRequest;
import io.rackroll.proto.v1.ReleaseHistoryResponse;
import io.rackroll.proto.v1.SecretRecord;
import io.rackroll.proto.v1.SetFlagsRequest;
import io.rackroll.proto.v1.SetSecretRequest;
import io.rackroll.proto.v1.StaleHost;
import io.rackroll.proto.v1.VersionPlacement;
import io.rackroll.release.FlagValues;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The environment calls of the admin API: apply and show environments, promote, and where each version is. */
final class EnvironmentAdmin {
  private final EnvironmentService environments;
  private final Store store;
  private final AgentRegistry registry;
  private final Rollouts rollouts;
  private final Clock clock;

  EnvironmentAdmin(EnvironmentService environments, Store store, AgentRegistry registry, Rollouts rollouts,
      Clock clock) {
    this.environments = environments;
    this.store = store;
    this.registry = registry;
    this.rollouts = rollouts;
    this.clock = clock;
  }

  /** The environments the current admin call's caller may change (empty: every one). */
  private static Set<String> scope() {
    return CallerInterceptor.callerGrant().environments();
  }

  /**
   * Refuses an admin limited to some environments control of deployment {@code id} when any of
   * its hosts is in another environment now, or in none.
   */
  void requireReach(String id, Admins.Grant grant) {
    if (grant.environments().isEmpty()) {
      return;
    }
    Environments envs = environments.current();
    Map<String, StoredAgent> agents = new HashMap<>();
    store.agents().all().forEach(a -> agents.put(a.id(), a));
    store.deployments().deployment(id).ifPresent(d -> {
      java.util.TreeSet<String> outside = new java.util.TreeSet<>();
      for (Deployment.Host h : d.hosts()) {
        String env = Optional.ofNullable(agents.get(h.agentId())).flatMap(envs::of).map(Environment::name).orElse("");
        if (!grant.reaches(env)) {
          outside.add(env.isEmpty() ? "no environment" : env);
        }
      }
      if (!outside.isEmpty()) {
        throw new Rollouts.Forbidden(id, "deployment " + id + " has hosts in " + String.join(", ", outside)
            + ", but you may change only " + String.join(", ", new java.util.TreeSet<>(grant.environments()))
            + "; ask an operator");
      }
    });
  }

  /** Checks that every name in {@code names} is an environment of the file applied now. */
  void requireKnown(List<String> names) {
    Environments envs = environments.current();
    for (String name : names) {
      io.rackroll.wire.Names.ENVIRONMENT.check(name); // a hostile name is refused shortened, not echoed whole
      named(envs, name);
    }
  }

  EnvironmentsRecord apply(String yaml, String source, boolean dryRun, String admin) {
    return record(environments.apply(yaml, source.isBlank() ? "environments file" : source, dryRun, admin));
  }

  void setSecret(SetSecretRequest request, String admin) {
    if (request.getUnset()) {
      environments.unsetSecret(request.getEnvironment(), request.getName(), admin);
    } else {
      environments.setSecret(request.getEnvironment(), request.getName(), request.getValue(), admin);
    }
  }

  /** Apps on hosts of {@code name} (every environment when empty) installed with other values than today's. */
  EnvironmentDiffResponse diff(String name) {
    Environments envs = environments.current();
    if (!name.isEmpty()) {
      named(envs, name);
    }
    EnvironmentDiffResponse.Builder out = EnvironmentDiffResponse.newBuilder();
    int current = 0;
    Map<String, String> digests = new HashMap<>(); // one per environment: its hosts share its configuration
    for (StoredAgent a : store.agents().all()) {
      Optional<Environment> env = envs.of(a).filter(e -> name.isEmpty() || e.name().equals(name));
      if (env.isEmpty()) {
        continue;
      }
      String expected = digests.computeIfAbsent(env.get().name(), n -> environments.configurationOf(a).digest());
      for (var app : store.agents().agentApps(a.id())) {
        if (app.currentVersion().isEmpty()) {
          continue;
        }
        if (app.configDigest().equals(expected)) {
          current++;
          continue;
        }
        out.addStale(StaleHost.newBuilder().setEnvironment(env.get().name()).setAgentId(a.id())
            .setHostname(a.facts().getHostname()).setApp(app.app()).setVersion(app.currentVersion())
            .setWhy(app.configDigest().isEmpty() ? "installed without " + env.get().name() + "'s configuration"
                : "installed with earlier values of " + env.get().name() + "'s variables or secrets"));
      }
    }
    return out.setCurrent(current).build();
  }

  EnvironmentsRecord current() {
    return record(environments.current());
  }

  private EnvironmentsRecord record(Environments envs) {
    Instant now = clock.instant();
    Map<String, List<StoredAgent>> members = membersOf(envs, store.agents().all());
    EnvironmentsRecord.Builder out = EnvironmentsRecord.newBuilder().setVersion(envs.version())
        .addAllLifecycle(envs.lifecycle()).setAppliedBy(envs.appliedBy())
        .setAppliedEpochMillis(envs.appliedAt().toEpochMilli()).setYaml(envs.yaml())
        .setUnassignedAgents(members.get("").size());
    for (Environment e : envs.byName().values()) {
      Schedule s = e.schedule();
      List<StoredAgent> agents = members.get(e.name());
      EnvironmentRecord.Builder b = EnvironmentRecord.newBuilder().setName(e.name()).setSelector(e.selector().text())
          .putAllStrategy(e.strategy()).setTimezone(s.zone().getId())
          .setAgents(agents.size())
          .setConnected((int) agents.stream().filter(a -> registry.live(a.id()).isPresent()).count())
          .setPrevious(envs.before(e.name()).orElse("")).putAllVariables(e.variables());
      environments.secrets(e.name()).forEach(x -> b.addSecrets(SecretRecord.newBuilder().setName(x.name())
          .setUpdatedBy(x.updatedBy()).setUpdatedEpochMillis(x.updatedAt().toEpochMilli())));
      s.windows().forEach(w -> b.addWindows(w.toString()));
      s.freezes().forEach(f -> b.addFreezes(f.text() + ": " + f.reason()));
      Optional<Schedule.Closed> closed = s.closed(now);
      if (closed.isPresent()) {
        b.setOpen(false).setClosedReason(closed.get().why())
            .setNextOpenEpochMillis(millis(closed.get().opens())).setNextOpenShown(s.show(closed.get().opens()));
      } else {
        Instant until = s.openUntil(now);
        b.setOpen(true).setOpenUntilEpochMillis(millis(until)).setOpenUntilShown(s.show(until));
      }
      out.addEnvironments(b);
    }
    return out.build();
  }

  private static long millis(Instant t) {
    return t.equals(Instant.MAX) ? 0 : t.toEpochMilli();
  }

  /** Each environment's agents in file order, and the agents in none under "". */
  private static Map<String, List<StoredAgent>> membersOf(Environments envs, List<StoredAgent> agents) {
    Map<String, List<StoredAgent>> m = new LinkedHashMap<>();
    envs.byName().keySet().forEach(n -> m.put(n, new java.util.ArrayList<>()));
    m.put("", new java.util.ArrayList<>());
    agents.forEach(a -> m.get(envs.of(a).map(Environment::name).orElse("")).add(a));
    return m;
  }

  /** Deploys to the environment with its strategy (flags over it), once the lifecycle allows. */
  Deployment promote(PromoteRequest request, String admin) {
    Environments envs = environments.current();
    String release = request.getName() + "@" + request.getVersion();
    Optional<String> refusal = Promotions.refusal(envs, request.getEnvironment(), request.getName(),
        request.getVersion(), store.deployments().environmentRuns(request.getName()));
    String force = request.getForceReason().strip();
    if (refusal.isPresent() && (force.isEmpty() || envs.get(request.getEnvironment()).isEmpty())) {
      throw new Rollouts.Refused(refusal.get() + (envs.get(request.getEnvironment()).isEmpty() ? ""
          : "; to promote anyway (audited): --force --reason TEXT"));
    }
    Environment env = envs.get(request.getEnvironment()).orElseThrow();
    Map<String, String> options = strategy(env, request.getOptionsMap());
    Deployment d = rollouts.start(new Rollouts.Request(Rollouts.DEPLOY, request.getName(), request.getVersion(),
        env.selector().text(), options, env.name(), request.getOverrideWindowReason().strip()).within(scope()), admin);
    if (refusal.isPresent()) {
      store.audit().record(AuditEntry.of(clock.instant(), admin, "promote --force", d.id(), release + " to " + env.name()
          + " although: " + refusal.get() + "; reason: " + force));
    }
    return d;
  }

  /**
   * Installs the version {@code name} runs in the environment again, with the environment's values
   * now: batches, gate and revert from the environment's strategy, like a promotion. Hosts already
   * on today's values are skipped. Refused unless the environment's hosts run one version.
   */
  Deployment reconfigure(ReconfigureRequest request, String admin) {
    Environments envs = environments.current();
    Environment env = named(envs, request.getEnvironment());
    Map<String, HostApp> apps = store.agents().hostApps(request.getName());
    Map<String, Integer> versions = new java.util.TreeMap<>();
    for (StoredAgent a : store.agents().all()) {
      HostApp app = apps.get(a.id());
      if (app != null && !app.currentVersion().isEmpty() && envs.of(a).filter(env::equals).isPresent()) {
        versions.merge(app.currentVersion(), 1, Integer::sum);
      }
    }
    if (versions.isEmpty()) {
      throw new Rollouts.Refused(request.getName() + " runs on no host of " + env.name() + "; promote a release there"
          + " first ('rackroll promote " + request.getName() + "@VERSION --to " + env.name() + "')");
    }
    if (versions.size() > 1) {
      StringBuilder b = new StringBuilder();
      versions.forEach((v, n) -> b.append(b.length() == 0 ? "" : ", ").append(v).append(" on ").append(n)
          .append(n == 1 ? " host" : " hosts"));
      throw new Rollouts.Refused(request.getName() + " runs more than one version in " + env.name() + " (" + b
          + "); promote one version to the whole environment, which installs it with today's values");
    }
    Map<String, String> options = strategy(env, request.getOptionsMap());
    return rollouts.start(new Rollouts.Request(Rollouts.RECONFIGURE, request.getName(), versions.keySet().iterator()
        .next(), env.selector().text(), options, env.name(), request.getOverrideWindowReason().strip()).within(scope()),
        admin);
  }

  /**
   * Changes runtime flags of an app on the environment's hosts (those the selector also matches,
   * when given) in rolling batches with the environment's strategy. Every change is a deployment
   * of kind flags, so its history, audit and revert are those of any deployment.
   */
  Deployment setFlags(SetFlagsRequest request, String admin) {
    Environment env = named(environments.current(), request.getEnvironment());
    if (request.getChangesCount() == 0) {
      throw new IllegalArgumentException("no flags to change; give NAME=VALUE, e.g. checkout.v2=true");
    }
    request.getChangesMap().keySet().forEach(FlagValues::name);
    FlagValues.toJson(request.getChangesMap()); // each value must be JSON: refused here, not on a host
    String narrow = request.getSelector().strip();
    Selector.parse(narrow);
    String selector = env.selector().text() + (narrow.isEmpty() ? "" : (env.selector().text().isEmpty() ? "" : ",")
        + narrow);
    Map<String, String> options = strategy(env, request.getOptionsMap());
    return rollouts.start(new Rollouts.Request(Rollouts.FLAGS, request.getApp(), "", selector, options, env.name(),
        request.getOverrideWindowReason().strip(), request.getChangesMap()).within(scope()), admin);
  }

  /**
   * Each host's flags of {@code app}, every host running it included (of one environment's hosts
   * when {@code environment} is set).
   */
  List<HostFlags> hostFlags(String app, String environment) {
    Environments envs = environments.current();
    if (!environment.isEmpty()) {
      named(envs, environment);
    }
    Map<String, ReportedFlags> flags = store.agents().hostFlags(app);
    Map<String, HostApp> running = store.agents().hostApps(app);
    List<HostFlags> out = new java.util.ArrayList<>();
    for (StoredAgent a : store.agents().all()) {
      String env = envs.of(a).map(Environment::name).orElse("");
      boolean runs = running.containsKey(a.id()) && !running.get(a.id()).currentVersion().isEmpty();
      if (!(runs || flags.containsKey(a.id())) || (!environment.isEmpty() && !env.equals(environment))) {
        continue;
      }
      ReportedFlags reported = flags.getOrDefault(a.id(), new ReportedFlags(Map.of(), Instant.EPOCH));
      out.add(HostFlags.newBuilder().setAgentId(a.id()).setHostname(a.facts().getHostname()).setEnvironment(env)
          .putAllFlags(reported.flags()).setUpdatedEpochMillis(reported.at().toEpochMilli()).build());
    }
    out.sort(java.util.Comparator.comparing(HostFlags::getEnvironment).thenComparing(HostFlags::getHostname)
        .thenComparing(HostFlags::getAgentId));
    return out;
  }

  /** The environment's strategy with the request's rollout options over it. */
  private static Map<String, String> strategy(Environment env, Map<String, String> overrides) {
    Map<String, String> options = new LinkedHashMap<>(env.strategy());
    options.putAll(overrides);
    return options;
  }

  private static Environment named(Environments envs, String name) {
    return envs.get(name).orElseThrow(() -> new Rollouts.Refused("no environment \"" + name + "\" (defined: "
        + (envs.byName().isEmpty() ? "none; apply an environments file with 'rackroll env apply -f FILE'"
        : String.join(", ", envs.byName().keySet())) + ")"));
  }

  /** Per version, newest first: hosts running it by environment, and how its promotions ended. */
  ReleaseHistoryResponse history(String app) {
    Environments envs = environments.current();
    Map<String, String> envOf = new HashMap<>();
    store.agents().all().forEach(a -> envOf.put(a.id(), envs.of(a).map(Environment::name).orElse("")));
    Map<String, Map<String, Integer>> running = new HashMap<>();
    for (HostApp h : store.agents().hostApps(app).values()) {
      if (!h.currentVersion().isEmpty()) {
        running.computeIfAbsent(h.currentVersion(), v -> new java.util.TreeMap<>())
            .merge(envOf.getOrDefault(h.agentId(), ""), 1, Integer::sum);
      }
    }
    // How each version stands in each environment: completed once is proven there (as for promotion), else
    // failed if an attempt ended; a promotion still running is shown as such.
    Map<String, Map<String, List<EnvironmentRun>>> runsOf = new HashMap<>();
    for (EnvironmentRun r : store.deployments().environmentRuns(app)) {
      runsOf.computeIfAbsent(r.version(), v -> new HashMap<>()).computeIfAbsent(r.environment(),
          e -> new java.util.ArrayList<>()).add(r);
    }
    ReleaseHistoryResponse.Builder out = ReleaseHistoryResponse.newBuilder();
    for (StoredRelease r : store.releases().list(app)) {
      VersionPlacement.Builder v = VersionPlacement.newBuilder().setRelease(ReleasePush.record(r))
          .putAllRunning(running.getOrDefault(r.version(), Map.of()));
      // In lifecycle order, then the file's: "staging, production".
      List<String> order = new java.util.ArrayList<>(envs.lifecycle());
      envs.byName().keySet().stream().filter(n -> !order.contains(n)).forEach(order::add);
      Map<String, List<EnvironmentRun>> byEnv = new java.util.TreeMap<>(java.util.Comparator.comparingInt(
          (String n) -> order.contains(n) ? order.indexOf(n) : order.size()).thenComparing(n -> n));
      byEnv.putAll(runsOf.getOrDefault(r.version(), Map.of()));
      byEnv.forEach((env, runs) -> {
        if (runs.stream().anyMatch(x -> !Deployment.ENDED.contains(x.state()))) {
          v.addRollingOut(env);
        } else if (runs.stream().anyMatch(x -> x.state().equals("completed"))) {
          v.addCompleted(env);
        } else {
          v.addFailed(env);
        }
      });
      out.addVersions(v);
    }
    return out.build();
  }
}
