package io.rackroll.controller.rollout;

import io.rackroll.controller.env.EnvironmentService;
import io.rackroll.controller.fleet.AgentRegistry;
import io.rackroll.controller.fleet.FleetListener;
import io.rackroll.controller.rollout.Planner.Candidate;
import io.rackroll.controller.rollout.Planner.Plan;
import io.rackroll.controller.store.ConnectionState;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.EventBursts;
import io.rackroll.controller.store.FlagsReport;
import io.rackroll.controller.store.HostJob;
import io.rackroll.controller.store.HostPhase;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.strategy.Strategy;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.proto.v1.Command;
import io.rackroll.wire.Ids;
import io.rackroll.wire.Threads;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs deployments: plans them, sends each batch its commands, waits for every host of a batch to
 * end and stay healthy through the health gate, spends the failure budget, and past it halts and
 * returns every host it changed to the release that host had before.
 *
 * <p>This class is the event loop. Event-driven on one thread, {@code rollouts}: agent reports,
 * connections, admin actions and a half-second tick are all events on it, so a deployment's state
 * has one writer and no locks. No thread per deployment or per host. Each running deployment is a
 * {@link Rollout} (its state machine); {@link Planning} turns a request into a plan,
 * {@link ChangeWindows} says whether hosts may change now, and {@link HostCommands} is what hosts
 * are told.
 *
 * <p>Durable: the plan, every deployment state and every host transition are in the store before
 * they are acted on (a host is recorded SENT before its command goes out). A restarted controller
 * loads the deployments that had not ended and goes on: agents report their real state when they
 * reconnect, hosts that were sent a command are sent it again (agents recognise a command of a
 * deployment they already ran and only report it again, so nothing installs twice), the failure
 * budget is counted from the stored hosts, and a health gate in progress starts over.
 *
 * <p>Change windows: a deployment (not a rollback) starts only while every environment it touches
 * may change, and before each batch it checks again for that batch's hosts; outside a window it
 * waits ({@code waiting_window}) between batches, never inside one, and goes on when the window
 * opens or an admin resumes it with a reason.
 */
public final class Rollouts implements FleetListener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Rollouts.class);
  private static final Duration TICK = Duration.ofMillis(500);

  private final Store store;
  private final AgentRegistry registry;
  private final Clock clock;
  private final RolloutContext context;
  private final Planning planning;
  private final ScheduledExecutorService loop = Threads.serial("rollouts");
  /** Agents' reports and connections, handled on {@link #loop} in bursts, each one transaction. */
  private final EventBursts bursts;
  /** Deployments that have not ended, by id. Confined to {@link #loop}. */
  private final Map<String, Rollout> active = new LinkedHashMap<>();
  /**
   * Recently ended deployments that hosts still report about (every agent reports its last job
   * after each reconnect), loaded once each; see {@link Rollout#reported}. Confined to {@link #loop}.
   */
  private final Map<String, Optional<Rollout>> ended = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Optional<Rollout>> eldest) {
      return size() > 32;
    }
  };
  /** The last download progress of each host downloading for a running deployment; read by admin calls. */
  private final Map<String, Download> downloads = new ConcurrentHashMap<>();
  /** Who follows which deployment (see {@link #watch}). */
  private final Map<String, Set<Runnable>> watchers = new ConcurrentHashMap<>();
  /** Null while this engine leads; else why it does not (several nodes: another leads). Written on {@link #loop}. */
  private volatile String following;
  /** Told when a write was fenced (see {@link #onFenced}). */
  private volatile Runnable fenced = () -> { };
  /** Who follows every deployment (see {@link #watchAll}). */
  private final List<java.util.function.Consumer<String>> watchingAll = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** A single controller's engine: its own registry's agents, leading from {@link #start()}. */
  public Rollouts(Store store, AgentRegistry registry, Clock clock, Duration reconnectGrace,
      EnvironmentService environments) {
    this(store, registry, localHosts(store, registry), clock, reconnectGrace, environments);
  }

  /**
   * One engine of several controller nodes on one database: {@code hosts} is every node's agents;
   * it follows from {@link #startFollowing} until told to {@link #lead}.
   */
  public Rollouts(Store store, HostCommands.Hosts hosts, Clock clock, Duration reconnectGrace,
      EnvironmentService environments) {
    this(store, null, hosts, clock, reconnectGrace, environments);
  }

  private static HostCommands.Hosts localHosts(Store store, AgentRegistry registry) {
    return new HostCommands.Hosts() {
      @Override
      public boolean connected(String agentId) {
        return registry.live(agentId).isPresent();
      }

      @Override
      public boolean silent(String agentId) {
        return registry.live(agentId).map(l -> l.state() == ConnectionState.STALE)
            .orElse(false);
      }

      @Override
      public boolean send(String agentId, Command command) {
        // Sent once the burst that recorded it is committed: a host never acts on what the store
        // could still lose. A host that leaves in between gets it again when it reconnects.
        if (registry.live(agentId).isEmpty()) {
          return false;
        }
        store.commits().afterCommit(() -> registry.send(agentId, command));
        return true;
      }
    };
  }

  private Rollouts(Store store, AgentRegistry registry, HostCommands.Hosts hosts, Clock clock,
      Duration reconnectGrace, EnvironmentService environments) {
    this.store = store;
    this.registry = registry;
    this.clock = clock;
    this.bursts = new EventBursts("rollout event", loop, store.commits(), this::reload);
    HostCommands commands = new HostCommands(hosts, environments);
    ChangeWindows windows = new ChangeWindows(environments, clock);
    this.context = new RolloutContext(store, commands, windows, clock, reconnectGrace);
    context.wakeUpWith((id, delay) -> loop.schedule(() -> {
      Rollout r = active.get(id);
      try {
        if (r != null) {
          settle(r, Rollout::advance);
        }
      } catch (io.rackroll.controller.store.LeaseStore.Fenced e) {
        reload(e); // not a failure of this deployment: the node no longer leads
      } catch (RuntimeException e) {
        log.atError().addKeyValue(ServiceLogging.DEPLOYMENT, id).log("rollout of {} failed: {}", id, e.getMessage(), e);
      }
    }, Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS));
    this.planning = new Planning(store, environments, windows, commands);
  }

  /**
   * What an operator asked for. {@code version} is empty for "each host's previous release".
   *
   * @param environment the environment a promotion deploys to, else empty
   * @param windowOverride why it may run outside change windows (audited), else empty
   * @param force why a deploy may reach hosts of an environment that takes releases by promotion
   *     only (audited), else empty
   */
  /**
   * What an admin asked for. {@code scope}: the environments the asking admin may change (empty:
   * every one); a deployment reaching a host outside them is refused.
   */
  public record Request(String kind, String app, String version, String selector, Map<String, String> options,
      String environment, String windowOverride, Map<String, String> flags, String force, Set<String> scope) {
    public Request {
      scope = Set.copyOf(scope);
    }

    public Request(String kind, String app, String version, String selector, Map<String, String> options,
        String environment, String windowOverride, Map<String, String> flags, String force) {
      this(kind, app, version, selector, options, environment, windowOverride, flags, force, Set.of());
    }

    /** This request, by an admin who may change only the hosts of {@code environments} (empty: all). */
    public Request within(Set<String> environments) {
      return new Request(kind, app, version, selector, options, environment, windowOverride, flags, force, environments);
    }

    public Request(String kind, String app, String version, String selector, Map<String, String> options) {
      this(kind, app, version, selector, options, "", "");
    }

    public Request(String kind, String app, String version, String selector, Map<String, String> options,
        String environment, String windowOverride) {
      this(kind, app, version, selector, options, environment, windowOverride, Map.of(), "");
    }

    public Request(String kind, String app, String version, String selector, Map<String, String> options,
        String environment, String windowOverride, Map<String, String> flags) {
      this(kind, app, version, selector, options, environment, windowOverride, flags, "");
    }

    public Map<String, String> defaults() {
      return kindOf().strategyDefaults();
    }

    /** The kind, checked: a request of no known kind is refused before anything is planned. */
    DeploymentKind kindOf() {
      return DeploymentKind.of(kind);
    }

    String release() {
      return kindOf().describe(app, version, flags);
    }
  }

  /** Kinds of deployment for callers outside the engine; see {@link DeploymentKind}. */
  public static final String DEPLOY = "deploy";
  public static final String ROLLBACK = "rollback";
  public static final String RECONFIGURE = "reconfigure";
  public static final String FLAGS = "flags";

  /** How much of its artifact a host holds while it downloads for {@code deploymentId}. */
  public record Download(String deploymentId, long bytes, long size) {}

  /** The host's last progress report in {@code deploymentId}, while it downloads. */
  public Optional<Download> download(String deploymentId, String agentId) {
    return Optional.ofNullable(downloads.get(agentId)).filter(d -> d.deploymentId().equals(deploymentId));
  }

  /** Why a request cannot go ahead; the message is for the operator. */
  public static class Refused extends RuntimeException {
    public Refused(String message) {
      super(message);
    }
  }

  /**
   * Why the asking admin may not do what it asked (it reaches beyond the environments it may
   * change); the message is for the admin, {@code target} what it tried to change.
   */
  public static final class Forbidden extends RuntimeException {
    private final String target;

    public Forbidden(String target, String message) {
      super(message);
      this.target = target;
    }

    public String target() {
      return target;
    }
  }

  /** A single controller's engine: listens to its registry, loads unfinished deployments and starts the tick. */
  public void start() {
    registry.listen(this);
    call(() -> {
      context.started();
      resume();
      return null;
    });
    startTicking();
  }

  /**
   * One of several nodes' engines: runs nothing and refuses admin actions with {@code why} until
   * it is told to {@link #lead}.
   */
  public void startFollowing(String why) {
    following = why;
    startTicking();
  }

  private void startTicking() {
    loop.scheduleWithFixedDelay(this::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * This node leads now (its writes are fenced with the lease's epoch): loads every deployment
   * that has not ended and goes on, as a restarted controller does; the hosts of each that are
   * connected hear again what they were sent last, since no reconnect will make them ask.
   */
  public void lead() {
    call(() -> {
      following = null;
      context.started();
      active.clear();
      ended.clear();
      resume();
      return null;
    });
    post(() -> {
      for (Rollout r : List.copyOf(active.values())) {
        settle(r, Rollout::takenOver);
      }
    });
  }

  /** This node no longer leads: it drops every deployment (the next leader has them) and refuses admin actions with {@code why}. */
  public void follow(String why) {
    call(() -> {
      stopLeading(why);
      return null;
    });
  }

  /** Whether this engine runs deployments now. */
  public boolean leading() {
    return following == null;
  }

  /** Called when a write was fenced: the node lost its lease before it knew. */
  public void onFenced(Runnable lost) {
    this.fenced = lost;
  }

  private void stopLeading(String why) {
    following = why;
    List<String> ids = List.copyOf(active.keySet());
    active.clear();
    ended.clear();
    downloads.clear();
    ids.forEach(this::changed); // whoever follows one reads it again
  }

  /** An admin action on a node that does not lead: the message says which node does. */
  public static final class NotLeading extends Refused {
    public NotLeading(String message) {
      super(message);
    }
  }

  private void mustLead() {
    String why = following;
    if (why != null) {
      throw new NotLeading(why);
    }
  }

  // ---- admin actions: run on the loop, answered synchronously ----

  /** The plan a request would run, changing nothing. */
  public Plan plan(Request request) {
    return call(() -> {
      mustLead();
      return planning.prepare(request, false, active.values()).plan();
    });
  }

  /** Plans, records and starts a deployment. */
  public Deployment start(Request request, String admin) {
    return call(() -> {
      mustLead();
      Planning.Prepared p = planning.prepare(request, true, active.values());
      Instant now = clock.instant();
      String id = Ids.random("d-", 10);
      List<Deployment.Host> hosts = new ArrayList<>();
      for (int b = 0; b < p.plan().batches().size(); b++) {
        for (Candidate c : p.plan().batches().get(b)) {
          hosts.add(new Deployment.Host(c.agentId(), c.hostname(), c.domain(), b, HostPhase.PENDING, "", "",
              request.version(), p.before(c.agentId()), p.beforeConfig(c.agentId()), "", now));
        }
      }
      for (Planner.Skip s : p.plan().skipped()) {
        Candidate c = s.host();
        hosts.add(new Deployment.Host(c.agentId(), c.hostname(), c.domain(), -1, HostPhase.SKIPPED, "skipped",
            s.reason(), request.version(), p.before(c.agentId()), p.beforeConfig(c.agentId()), "", now));
      }
      Deployment d = new Deployment(id, request.kind(), request.app(), request.version(), request.selector(), admin,
          now, p.plan().strategy().toOptions(), DeploymentState.RUNNING.label(), 0, Math.max(1, p.plan().batches().size()),
          p.plan().allowedFailures(), "", now, request.environment(), request.windowOverride(), request.flags(), hosts);
      store.deployments().createDeployment(d); // the plan is durable before any host hears of it
      context.audit(admin, request.kind(), id, request.release() + " on \"" + request.selector() + "\""
          + (request.environment().isEmpty() ? "" : " in " + request.environment()) + ": "
          + p.plan().hostCount() + " host(s) in " + p.plan().batches().size() + " batch(es), "
          + p.plan().skipped().size() + " skipped; " + summary(p.plan().strategy()) + (request.windowOverride().isEmpty() ? ""
          : "; outside change windows: " + request.windowOverride()));
      p.forced().ifPresent(why -> context.audit(admin, request.kind() + " --force", id, request.release()
          + " although: " + why + "; reason: " + request.force()));
      Rollout r = new Rollout(d, p.plan().strategy(), p.hostApps(), context);
      active.put(id, r);
      settle(r, Rollout::advance);
      return store.deployments().deployment(id).orElseThrow();
    });
  }

  /**
   * pause, resume, approve or abort (with {@code rollback}: then return changed hosts). Resuming a
   * deployment that waits for a change window needs a {@code reason}: it then runs outside windows.
   */
  public Deployment control(String id, String action, boolean rollback, String reason, String admin) {
    return call(() -> {
      mustLead();
      Rollout r = active.get(id);
      if (r == null) {
        Deployment d = store.deployments().deployment(id).orElseThrow(() -> new Refused("no deployment " + id
            + "; list them with 'rackroll deployments'"));
        throw new Refused("deployment " + id + " already ended (" + d.state() + "); nothing to " + action);
      }
      settle(r, x -> x.control(action, rollback, reason, admin));
      return store.deployments().deployment(id).orElseThrow();
    });
  }

  /**
   * Runs {@code work} on the loop unless a running deployment holds {@code agentId}: no deployment
   * can take the host while it runs.
   */
  public <T> T outsideDeployments(String agentId, Supplier<T> work) {
    return call(() -> {
      mustLead();
      for (Rollout r : active.values()) {
        if (r.has(agentId)) {
          throw new Refused("agent " + agentId + " is in running deployment " + r.d.id() + " of " + r.release()
              + "; wait for it to end or abort it with 'rackroll deployment abort " + r.d.id() + "'");
        }
      }
      return work.get();
    });
  }

  // ---- fleet events (called on the registry's thread, handed to the loop) ----

  @Override
  public void connected(String agentId) {
    post(() -> each(agentId, r -> r.connected(agentId)));
  }

  @Override
  public void disconnected(String agentId) {
    post(() -> each(agentId, r -> r.disconnected(agentId)));
  }

  @Override
  public void silent(String agentId) {
    post(() -> each(agentId, r -> r.silent(agentId)));
  }

  @Override
  public void job(HostJob j) {
    if (j.deploymentId().isEmpty()) {
      return;
    }
    post(() -> {
      if (!leading()) {
        return;
      }
      Rollout r = rolloutOf(HostCommands.deploymentOf(j.deploymentId()));
      if (r == null || !r.has(j.agentId())) {
        return; // a report about a deployment the controller does not know, or a host not in it
      }
      if (!j.phase().equals(HostPhase.DOWNLOADING.name())) {
        downloads.remove(j.agentId());
      }
      if (HostCommands.isBake(j.deploymentId())) {
        if (j.phase().equals(HostPhase.ACTIVE.name())) {
          settle(r, x -> x.rolledBackByItself(j.agentId(), j.currentVersion()));
        }
        return;
      }
      settle(r, x -> x.reported(j.agentId(), HostCommands.isRevert(j.deploymentId()), j.phase(), j.failureKind(),
          j.failure(), j.version(), Optional.of(j.currentVersion())));
    });
  }

  /** A host's report of a flag change: as a job's, for a flags deployment. */
  @Override
  public void flags(FlagsReport f) {
    if (f.deploymentId().isEmpty()) {
      return;
    }
    post(() -> {
      if (!leading()) {
        return;
      }
      Rollout r = rolloutOf(HostCommands.deploymentOf(f.deploymentId()));
      if (r != null && r.has(f.agentId()) && r.kind.changesFlags()) {
        settle(r, x -> x.reported(f.agentId(), HostCommands.isRevert(f.deploymentId()), f.phase(), f.failureKind(),
            f.failure(), "", Optional.empty()));
      }
    });
  }

  /** Progress without a transition: shown, and it keeps --host-timeout from running out. Never stored. */
  @Override
  public void downloaded(String agentId, String deploymentId, long bytes, long size) {
    post(() -> {
      Rollout r = active.get(deploymentId);
      if (r != null && r.downloading(agentId)) {
        downloads.put(agentId, new Download(deploymentId, bytes, size));
        changed(deploymentId);
      }
    });
  }

  @Override
  public void health(String agentId, String app, boolean healthy, String line) {
    if (healthy) {
      return;
    }
    post(() -> each(agentId, r -> {
      if (r.d.app().equals(app)) {
        r.unhealthy(agentId, line);
      }
    }));
  }

  private void tick() {
    for (Rollout r : List.copyOf(active.values())) {
      try {
        settle(r, Rollout::tick);
      } catch (io.rackroll.controller.store.LeaseStore.Fenced e) {
        reload(e); // the node no longer leads: every deployment is dropped at once
        return;
      } catch (RuntimeException e) {
        log.atError().addKeyValue(ServiceLogging.DEPLOYMENT, r.d.id())
            .log("rollout tick of {} failed: {}", r.d.id(), e.getMessage(), e);
      }
    }
  }

  // ---- plumbing ----

  /** The deployment a report names: running, or ended (loaded once, to reconcile late reports); else null. */
  private Rollout rolloutOf(String id) {
    Rollout r = active.get(id);
    if (r != null) {
      return r;
    }
    return ended.computeIfAbsent(id, key -> store.deployments().deployment(key).filter(Deployment::ended)
        .map(d -> new Rollout(d, Strategy.of(d.strategy(), DeploymentKind.of(d.kind()).strategyDefaults()),
            store.agents().hostApps(d.app()), context))).orElse(null);
  }

  /** Runs {@code event} on every running deployment {@code agentId} is a host of. */
  private void each(String agentId, Consumer<Rollout> event) {
    for (Rollout r : List.copyOf(active.values())) {
      if (r.has(agentId)) {
        settle(r, event);
      }
    }
  }

  /** Runs {@code event} on {@code r}, then lets it go once it has ended. */
  private void settle(Rollout r, Consumer<Rollout> event) {
    try {
      event.accept(r);
    } finally {
      if (r.state().ended() && active.remove(r.d.id()) != null) {
        // It just ended: a late report about it loads it afresh from the store.
        ended.remove(r.d.id());
        downloads.values().removeIf(x -> x.deploymentId().equals(r.d.id()));
      }
      changed(r.d.id());
    }
  }

  /**
   * Calls {@code changed} after every event that may have changed deployment {@code id}, on the
   * rollouts loop (so it must return at once), until the returned handle is closed. The caller
   * reads the deployment itself; several events may come to one call's worth of change.
   */
  public AutoCloseable watch(String id, Runnable changed) {
    watchers.computeIfAbsent(id, k -> ConcurrentHashMap.newKeySet()).add(changed);
    return () -> watchers.computeIfPresent(id, (k, set) -> {
      set.remove(changed);
      return set.isEmpty() ? null : set;
    });
  }

  /**
   * Calls {@code changed} with the id of every deployment an event may have changed, on the
   * rollouts loop (so it must return at once): for views of all deployments, such as the console.
   */
  public void watchAll(java.util.function.Consumer<String> changed) {
    watchingAll.add(changed);
  }

  /**
   * Tells who follows {@code deploymentId} once what changed it is committed: a watcher that reads
   * the deployment at once must find the change there (at once outside a burst).
   */
  private void changed(String deploymentId) {
    store.commits().afterCommit(() -> {
      watchingAll.forEach(w -> w.accept(deploymentId));
      Set<Runnable> w = watchers.get(deploymentId);
      if (w != null) {
        w.forEach(Runnable::run);
      }
    });
  }

  private static String summary(Strategy s) {
    StringBuilder b = new StringBuilder();
    s.toOptions().forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append('=').append(v));
    return b.toString();
  }

  private void post(Runnable event) {
    bursts.post(event);
  }

  /**
   * A burst's transaction failed: what its events changed in memory is ahead of the store, and no
   * command of it went out. Every running deployment is read again from the store, as a restarted
   * controller does, and goes on from there.
   */
  private void reload(RuntimeException why) {
    if (why instanceof io.rackroll.controller.store.LeaseStore.Fenced) {
      log.warn("this node no longer leads: {}", why.getMessage());
      stopLeading(why.getMessage());
      fenced.run();
      return;
    }
    if (!leading()) {
      return;
    }
    log.warn("reloading running deployments from the store after a failed write: {}", why.getMessage());
    active.clear();
    ended.clear();
    downloads.clear();
    try {
      resume();
    } catch (RuntimeException e) {
      log.error("cannot reload running deployments: {}; they go on at the next tick", e.getMessage(), e);
    }
  }

  /** Loads every deployment that has not ended into {@link #active}. On the loop. */
  private void resume() {
    for (Deployment d : store.deployments().activeDeployments()) {
      Rollout r = new Rollout(d, Strategy.of(d.strategy(), DeploymentKind.of(d.kind()).strategyDefaults()),
          store.agents().hostApps(d.app()), context);
      active.put(d.id(), r);
      log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, d.id())
          .log("resuming deployment {} of {} at batch {} of {} ({})", d.id(), r.release(), d.batch() + 1,
              d.batches(), d.state());
    }
  }

  private <T> T call(Callable<T> work) {
    try {
      return loop.submit(work).get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    loop.shutdownNow();
  }
}
