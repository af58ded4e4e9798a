package io.rackroll.controller.rollout;

import io.rackroll.controller.env.Environment;
import io.rackroll.controller.env.EnvironmentService;
import io.rackroll.controller.env.Environments;
import io.rackroll.controller.env.Schedule;
import io.rackroll.controller.fleet.AgentRegistry;
import io.rackroll.controller.fleet.FleetListener;
import io.rackroll.controller.rollout.Planner.Candidate;
import io.rackroll.controller.rollout.Planner.Plan;
import io.rackroll.controller.select.AgentAttributes;
import io.rackroll.controller.select.Selector;
import io.rackroll.controller.store.AuditEntry;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.FlagsReport;
import io.rackroll.controller.store.HostApp;
import io.rackroll.controller.store.HostJob;
import io.rackroll.controller.store.ReportedFlags;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.store.StoredAgent;
import io.rackroll.controller.store.StoredRelease;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.Deploy;
import io.rackroll.proto.v1.Rollback;
import io.rackroll.proto.v1.SetFlags;
import io.rackroll.release.FlagValues;
import io.rackroll.wire.Durations;
import io.rackroll.wire.Ids;
import io.rackroll.wire.Threads;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs deployments: plans them, sends each batch its commands, waits for every host of a batch to
 * end and stay healthy through the health gate, spends the failure budget, and past it halts and
 * returns every host it changed to the release that host had before.
 *
 * <p>Event-driven on one thread, {@code rollouts}: agent reports, connections, admin actions and a
 * half-second tick are all events on it, so a deployment's state has one writer and no locks. No
 * thread per deployment or per host.
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
  /** Host phases that count against the failure budget. */
  static final Set<String> FAILED = Set.of("FAILED", "ROLLED_BACK", "UNREACHABLE", "TIMED_OUT", "UNHEALTHY");
  private static final String REVERT = ":revert";

  public static boolean countsAsFailure(String hostPhase) {
    return FAILED.contains(hostPhase);
  }
  private static final Duration TICK = Duration.ofMillis(500);

  private final Store store;
  private final AgentRegistry registry;
  private final Clock clock;
  /** After a restart, hosts not yet reconnected are waited for this long whatever --offline says. */
  private final Duration reconnectGrace;
  private final EnvironmentService environments;
  private final ScheduledExecutorService loop = Threads.serial("rollouts");
  /** Deployments that have not ended, by id. Confined to {@link #loop}. */
  private final Map<String, Rollout> active = new LinkedHashMap<>();
  /** The last download progress of each host downloading for a running deployment; read by admin calls. */
  private final Map<String, Download> downloads = new ConcurrentHashMap<>();
  private Instant startedAt = Instant.EPOCH;

  public Rollouts(Store store, AgentRegistry registry, Clock clock, Duration reconnectGrace,
      EnvironmentService environments) {
    this.environments = environments;
    this.store = store;
    this.registry = registry;
    this.clock = clock;
    this.reconnectGrace = reconnectGrace;
  }

  /**
   * What an operator asked for. {@code version} is empty for "each host's previous release".
   *
   * @param environment the environment a promotion deploys to, else empty
   * @param windowOverride why it may run outside change windows (audited), else empty
   */
  public record Request(String kind, String app, String version, String selector, Map<String, String> options,
      String environment, String windowOverride, Map<String, String> flags) {
    public Request(String kind, String app, String version, String selector, Map<String, String> options) {
      this(kind, app, version, selector, options, "", "");
    }

    public Request(String kind, String app, String version, String selector, Map<String, String> options,
        String environment, String windowOverride) {
      this(kind, app, version, selector, options, environment, windowOverride, Map.of());
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
  public static final class Refused extends RuntimeException {
    public Refused(String message) {
      super(message);
    }
  }

  /** Loads unfinished deployments and starts the tick. */
  public void start() {
    registry.listen(this);
    call(() -> {
      startedAt = clock.instant();
      for (Deployment d : store.activeDeployments()) {
        Rollout r = new Rollout(d, store.hostApps(d.app()));
        active.put(d.id(), r);
        log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, d.id())
            .log("resuming deployment {} of {} at batch {} of {} ({})", d.id(), r.release(), d.batch() + 1,
                d.batches(), d.state());
      }
      return null;
    });
    loop.scheduleWithFixedDelay(this::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
  }

  // ---- admin actions: run on the loop, answered synchronously ----

  /** The plan a request would run, changing nothing. */
  public Plan plan(Request request) {
    return call(() -> prepare(request, false).plan);
  }

  /** Plans, records and starts a deployment. */
  public Deployment start(Request request, String admin) {
    return call(() -> {
      Prepared p = prepare(request, true);
      Instant now = clock.instant();
      String id = Ids.random("d-", 10);
      List<Deployment.Host> hosts = new ArrayList<>();
      for (int b = 0; b < p.plan.batches().size(); b++) {
        for (Candidate c : p.plan.batches().get(b)) {
          hosts.add(new Deployment.Host(c.agentId(), c.hostname(), c.domain(), b, "PENDING", "", "",
              request.version(), p.before(c.agentId()), p.beforeConfig(c.agentId()), "", now));
        }
      }
      for (Planner.Skip s : p.plan.skipped()) {
        Candidate c = s.host();
        hosts.add(new Deployment.Host(c.agentId(), c.hostname(), c.domain(), -1, "SKIPPED", "skipped", s.reason(),
            request.version(), p.before(c.agentId()), p.beforeConfig(c.agentId()), "", now));
      }
      Deployment d = new Deployment(id, request.kind(), request.app(), request.version(), request.selector(), admin,
          now, p.strategy.toOptions(), "running", 0, Math.max(1, p.plan.batches().size()), p.plan.allowedFailures(),
          "", now, request.environment(), request.windowOverride(), request.flags(), hosts);
      store.createDeployment(d); // the plan is durable before any host hears of it
      audit(admin, request.kind(), id, request.release() + " on \"" + request.selector() + "\""
          + (request.environment().isEmpty() ? "" : " in " + request.environment()) + ": "
          + p.plan.hostCount() + " host(s) in " + p.plan.batches().size() + " batch(es), " + p.plan.skipped().size()
          + " skipped; " + summary(p.strategy) + (request.windowOverride().isEmpty() ? ""
          : "; outside change windows: " + request.windowOverride()));
      Rollout r = new Rollout(d, p.hostApps);
      active.put(id, r);
      advance(r);
      return store.deployment(id).orElseThrow();
    });
  }

  /**
   * pause, resume, approve or abort (with {@code rollback}: then return changed hosts). Resuming a
   * deployment that waits for a change window needs a {@code reason}: it then runs outside windows.
   */
  public Deployment control(String id, String action, boolean rollback, String reason, String admin) {
    return call(() -> {
      Rollout r = active.get(id);
      if (r == null) {
        Deployment d = store.deployment(id).orElseThrow(() -> new Refused("no deployment " + id
            + "; list them with 'rackroll deployments'"));
        throw new Refused("deployment " + id + " already ended (" + d.state() + "); nothing to " + action);
      }
      DeploymentState state = r.state;
      switch (action) {
        case "pause" -> {
          require(r, action, DeploymentState.RUNNING, DeploymentState.AWAITING_APPROVAL, DeploymentState.WAITING_WINDOW);
          r.setState(DeploymentState.PAUSED, "paused by " + admin);
        }
        case "resume" -> {
          require(r, action, DeploymentState.PAUSED, DeploymentState.WAITING_WINDOW);
          if (state == DeploymentState.WAITING_WINDOW && closedFor(r, r.batch).isPresent()) {
            if (reason.isBlank()) {
              throw new Refused("deployment " + id + " " + r.reason + "; to go ahead now, outside the window (audited):"
                  + " rackroll deployment resume " + id + " --reason TEXT");
            }
            store.overrideWindows(id, reason);
            r.windowOverride = reason;
          }
          r.setState(DeploymentState.RUNNING, "");
        }
        case "approve" -> {
          require(r, action, DeploymentState.AWAITING_APPROVAL);
          r.batch++;
          r.gateStartedAt = null;
          r.setState(DeploymentState.RUNNING, "");
        }
        case "abort" -> {
          require(r, action, DeploymentState.RUNNING, DeploymentState.AWAITING_APPROVAL, DeploymentState.PAUSED,
              DeploymentState.WAITING_WINDOW, DeploymentState.HALTING);
          r.setState(rollback ? DeploymentState.ROLLING_BACK : DeploymentState.ABORTING, "aborted by " + admin);
        }
        default -> throw new Refused("unknown action " + action);
      }
      audit(admin, action + (rollback ? " --rollback" : ""), id, "from " + state.label()
          + (reason.isBlank() ? "" : "; reason: " + reason));
      advance(r);
      return store.deployment(id).orElseThrow();
    });
  }

  private static void require(Rollout r, String action, DeploymentState... states) {
    if (!List.of(states).contains(r.state)) {
      throw new Refused("cannot " + action + " deployment " + r.d.id() + ": it is " + r.state.label() + " (" + action
          + " needs it " + String.join(" or ", java.util.Arrays.stream(states).map(DeploymentState::label).toList())
          + ")");
    }
  }

  // ---- fleet events (called on the registry's thread) ----

  @Override
  public void connected(String agentId) {
    post(() -> {
      for (Rollout r : List.copyOf(active.values())) {
        Deployment.Host h = r.hosts.get(agentId);
        if (h == null) {
          continue;
        }
        if (reverting(h) == RevertState.SENT) {
          sendRevert(r, h); // the first may have been lost with the controller or the connection
        } else if (!h.done() && !h.phase().equals("PENDING") && !h.phase().equals("WAITING")) {
          send(r, h); // likewise; the agent reports a job it already ran instead of running it again
        }
        advance(r);
      }
    });
  }

  @Override
  public void disconnected(String agentId) {
    post(() -> {
      for (Rollout r : List.copyOf(active.values())) {
        Deployment.Host h = r.hosts.get(agentId);
        if (h != null && r.inGate(h)) {
          fail(r, h, "UNHEALTHY", "unhealthy", "disconnected during the " + Durations.format(r.strategy.healthGate())
              + " health gate");
          advance(r);
        }
      }
    });
  }

  @Override
  public void job(HostJob j) {
    if (j.deploymentId().isEmpty()) {
      return;
    }
    post(() -> {
      boolean revert = j.deploymentId().endsWith(REVERT);
      Rollout r = activeFor(j.deploymentId());
      Deployment.Host h = r == null ? null : r.hosts.get(j.agentId());
      if (h == null) {
        return; // an ended deployment, or a report about one the controller does not run
      }
      r.current.put(j.agentId(), j.currentVersion());
      if (!j.phase().equals("DOWNLOADING")) {
        downloads.remove(j.agentId());
      }
      reported(r, h, revert, j.phase(), j.failureKind(), j.failure(), j.currentVersion());
    });
  }

  /** A host's report of a flag change: as a job's, for a flags deployment. */
  @Override
  public void flags(FlagsReport f) {
    if (f.deploymentId().isEmpty()) {
      return;
    }
    post(() -> {
      boolean revert = f.deploymentId().endsWith(REVERT);
      Rollout r = activeFor(f.deploymentId());
      Deployment.Host h = r == null ? null : r.hosts.get(f.agentId());
      if (h != null && r.kind.changesFlags()) {
        reported(r, h, revert, f.phase(), f.failureKind(), f.failure(), "");
      }
    });
  }

  /** The running rollout a report's deployment id names: its own, or its revert's ({@code <id>:revert}). */
  private Rollout activeFor(String deploymentId) {
    return active.get(deploymentId.endsWith(REVERT) ? deploymentId.substring(0, deploymentId.length() - REVERT.length())
        : deploymentId);
  }

  private void reported(Rollout r, Deployment.Host h, boolean revert, String phase, String kind, String failure,
      String currentVersion) {
    if (revert) {
      revertReported(r, h, phase, currentVersion, failure);
    } else if (!h.done() && !h.phase().equals(phase)) {
      boolean unfit = phase.equals("FAILED") && kind.equals("refused") && r.strategy.skipUnfit();
      r.move(h, unfit ? "SKIPPED" : phase, unfit ? "unfit" : kind, failure);
    }
    advance(r);
  }

  /** Progress without a transition: shown, and it keeps --host-timeout from running out. Never stored. */
  @Override
  public void downloaded(String agentId, String deploymentId, long bytes, long size) {
    post(() -> {
      Rollout r = active.get(deploymentId);
      Deployment.Host h = r == null ? null : r.hosts.get(agentId);
      if (h != null && h.phase().equals("DOWNLOADING")) {
        downloads.put(agentId, new Download(deploymentId, bytes, size));
        r.touch(h);
      }
    });
  }

  @Override
  public void health(String agentId, String app, boolean healthy, String line) {
    if (healthy) {
      return;
    }
    post(() -> {
      for (Rollout r : List.copyOf(active.values())) {
        Deployment.Host h = r.hosts.get(agentId);
        if (h != null && r.d.app().equals(app) && r.inGate(h)) {
          fail(r, h, "UNHEALTHY", "unhealthy", "unhealthy during the " + Durations.format(r.strategy.healthGate())
              + " health gate: " + line);
          advance(r);
        }
      }
    });
  }

  // ---- the state machine ----

  private static RevertState reverting(Deployment.Host h) {
    return RevertState.of(h.revert());
  }

  /** Moves {@code r} as far as it can go now. Idempotent: every event ends by calling it. */
  private void advance(Rollout r) {
    if (!r.state.stopping() && r.failures() > r.d.allowedFailures()) {
      String why = "failure budget spent: " + r.failures() + " host(s) failed, " + r.d.allowedFailures()
          + " allowed (--max-failures " + r.strategy.maxFailures() + ")";
      r.setState(r.strategy.autoRollback() ? DeploymentState.ROLLING_BACK : DeploymentState.HALTING, why);
      audit("controller", "halt", r.d.id(), why);
    }
    switch (r.state) {
      case RUNNING -> runBatch(r);
      case ABORTING, HALTING -> {
        if (r.inFlight() == 0) {
          end(r, r.state == DeploymentState.ABORTING ? DeploymentState.ABORTED : DeploymentState.FAILED);
        }
      }
      case ROLLING_BACK -> revert(r);
      case WAITING_WINDOW -> {
        if (closedFor(r, r.batch).isEmpty()) {
          r.setState(DeploymentState.RUNNING, "");
          audit("controller", "resume", r.d.id(), "change window open");
          runBatch(r);
        }
      }
      default -> { } // paused, awaiting_approval: reports still land, nothing new starts
    }
  }

  private void runBatch(Rollout r) {
    while (true) {
      List<Deployment.Host> batch = r.batch(r.batch);
      boolean starting = batch.stream().allMatch(h -> h.phase().equals("PENDING"));
      if (starting && !batch.isEmpty()) {
        Optional<String> closed = closedFor(r, r.batch);
        if (closed.isPresent()) {
          r.setState(DeploymentState.WAITING_WINDOW, closed.get());
          audit("controller", "wait for window", r.d.id(), "before batch " + (r.batch + 1) + ": " + closed.get());
          log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, r.d.id())
              .log("deployment {} {}", r.d.id(), closed.get());
          return;
        }
      }
      for (Deployment.Host h : batch) {
        if (h.phase().equals("PENDING") || h.phase().equals("WAITING")) {
          dispatch(r, h);
        }
      }
      if (r.failures() > r.d.allowedFailures()) {
        advance(r);
        return;
      }
      if (!batch.stream().allMatch(h -> r.hosts.get(h.agentId()).done())) {
        return;
      }
      Instant now = clock.instant();
      boolean gated = !r.strategy.healthGate().isZero()
          && batch.stream().anyMatch(h -> r.hosts.get(h.agentId()).phase().equals("ACTIVE"));
      if (gated) {
        if (r.gateStartedAt == null) {
          r.gateStartedAt = now;
          log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, r.d.id())
              .log("deployment {}: batch {} of {} done; health gate until {}", r.d.id(), r.batch + 1, r.d.batches(),
                  now.plus(r.strategy.healthGate()));
        }
        if (now.isBefore(r.gateStartedAt.plus(r.strategy.healthGate()))) {
          return; // the tick comes back
        }
      }
      r.gateStartedAt = null;
      if (r.batch + 1 >= r.d.batches()) {
        end(r, DeploymentState.COMPLETED);
        return;
      }
      if (r.batch == 0 && r.canary && r.strategy.approveAfterCanary()) {
        r.setState(DeploymentState.AWAITING_APPROVAL, "canary done; approve with 'rackroll deployment approve " + r.d.id() + "'");
        audit("controller", "await approval", r.d.id(), "canary done");
        return;
      }
      r.batch++;
      r.setState(DeploymentState.RUNNING, ""); // records the batch
    }
  }

  /** Sends a PENDING or WAITING host its command, or applies --offline when it is not connected. */
  private void dispatch(Rollout r, Deployment.Host h) {
    if (registry.live(h.agentId()).isPresent()) {
      r.move(h, "SENT", "", "");
      if (send(r, h)) {
        return;
      }
    }
    boolean grace = clock.instant().isBefore(startedAt.plus(reconnectGrace));
    Strategy.Offline offline = grace ? Strategy.Offline.WAIT : r.strategy.offline();
    String why = "agent " + h.agentId() + " is not connected";
    switch (offline) {
      case SKIP -> r.move(h, "SKIPPED", "offline", why + " (--offline skip)");
      case FAIL -> r.move(h, "UNREACHABLE", "unreachable", why + " (--offline fail)");
      case WAIT -> {
        if (!h.phase().equals("WAITING")) {
          r.move(h, "WAITING", "", why + "; waiting up to " + Durations.format(r.strategy.hostTimeout()));
        }
      }
    }
  }

  private boolean send(Rollout r, Deployment.Host h) {
    Command.Builder c = Command.newBuilder().setId(UUID.randomUUID().toString());
    Deployment d = r.d;
    HostApp app = r.apps.get(h.agentId());
    boolean kept = app != null && app.keptVersions().contains(d.version());
    if (r.kind.changesFlags()) {
      c.setSetFlags(SetFlags.newBuilder().setDeploymentId(d.id()).setApp(d.app()).putAllChanges(d.flags()));
    } else if (r.kind.installs() || (!d.version().isEmpty() && !kept)) {
      Optional<StoredRelease> release = r.storedRelease();
      if (release.isEmpty()) {
        r.move(h, "FAILED", "refused", d.app() + "@" + d.version() + " is not kept on this host and no such release"
            + " was pushed; push it or roll back to a kept version");
        return true;
      }
      // The host's own environment's configuration, secrets included: only ever to that host.
      EnvironmentService.Configuration config = store.agent(h.agentId()).map(environments::configurationOf)
          .orElse(EnvironmentService.Configuration.NONE);
      Map<String, String> flags = config.environment().isEmpty() ? Map.of() : r.environmentFlags(config.environment());
      c.setDeploy(Deploy.newBuilder().setDeploymentId(d.id()).setApp(d.app()).setVersion(d.version())
          .setDigest(release.get().digest()).setSize(release.get().sizeBytes())
          .setUnpackedBytes(release.get().unpackedBytes()).setUnpackedEntries(release.get().unpackedEntries())
          .setEnvironment(config.environment()).putAllVariables(config.variables()).setConfigDigest(config.digest())
          .putAllInitialFlags(flags));
    } else {
      c.setRollback(Rollback.newBuilder().setDeploymentId(d.id()).setApp(d.app()).setToVersion(d.version()));
    }
    return registry.send(h.agentId(), c.build());
  }

  /** Returns changed hosts to their release before, in batches, once nothing is in flight. */
  private void revert(Rollout r) {
    if (r.inFlight() > 0) {
      return;
    }
    List<Deployment.Host> targets = r.hosts.values().stream().filter(r::needsRevert).toList();
    int size = Math.max(1, r.strategy.batch().ceilOf(Math.max(1, targets.size())));
    Map<String, Integer> perDomain = new HashMap<>();
    int sending = 0;
    for (Deployment.Host h : r.hosts.values()) {
      if (reverting(h) == RevertState.SENT) {
        sending++;
        perDomain.merge(h.domain(), 1, Integer::sum);
      }
    }
    for (Deployment.Host h : targets) {
      if (reverting(h) != RevertState.NONE && reverting(h) != RevertState.PENDING) {
        continue;
      }
      if (sending >= size || (r.strategy.maxPerRack() > 0
          && perDomain.getOrDefault(h.domain(), 0) >= r.strategy.maxPerRack())) {
        continue;
      }
      if (registry.live(h.agentId()).isEmpty()) {
        if (reverting(h) == RevertState.NONE) {
          r.revert(h, RevertState.PENDING, "agent not connected; reverting when it returns");
        }
        continue;
      }
      r.revert(h, RevertState.SENT, backTo(r, h));
      sendRevert(r, h);
      sending++;
      perDomain.merge(h.domain(), 1, Integer::sum);
    }
    boolean open = r.hosts.values().stream().anyMatch(h -> reverting(h).open());
    if (!open && targets.stream().allMatch(h -> reverting(h) != RevertState.NONE)) {
      boolean failed = r.hosts.values().stream().anyMatch(h -> reverting(h) == RevertState.FAILED);
      end(r, failed ? DeploymentState.ROLLBACK_FAILED : DeploymentState.ROLLED_BACK);
    }
  }

  private void sendRevert(Rollout r, Deployment.Host h) {
    Command.Builder c = Command.newBuilder().setId(UUID.randomUUID().toString());
    if (r.kind.changesFlags()) {
      c.setSetFlags(SetFlags.newBuilder().setDeploymentId(r.d.id() + REVERT).setApp(r.d.app()).setRevertOf(r.d.id()));
    } else {
      // With the configuration it ran with: undoing a reconfigure brings the earlier values back.
      c.setRollback(Rollback.newBuilder().setDeploymentId(r.d.id() + REVERT).setApp(r.d.app())
          .setToVersion(h.beforeVersion()).setConfigDigest(h.beforeConfig()));
    }
    registry.send(h.agentId(), c.build());
  }

  /** "back to web@1", or what a flags or reconfigure revert returns the host to. */
  private static String backTo(Rollout r, Deployment.Host h) {
    return r.kind.backTo(h.beforeVersion());
  }

  private void revertReported(Rollout r, Deployment.Host h, String phase, String currentVersion, String failure) {
    if (reverting(h) != RevertState.SENT) {
      return;
    }
    switch (phase) {
      case "ACTIVE" -> r.revert(h, RevertState.REVERTED, r.kind.reverted(currentVersion));
      case "FAILED", "ROLLED_BACK" -> r.revert(h, RevertState.FAILED, failure);
      default -> r.touch(h);
    }
  }

  /** A host that failed after it was done (its gate): counted, and returned to its release before. */
  private void fail(Rollout r, Deployment.Host h, String phase, String kind, String why) {
    r.move(h, phase, kind, why);
    if (reverting(h) == RevertState.NONE && r.changed(h)) {
      if (registry.live(h.agentId()).isPresent()) {
        r.revert(h, RevertState.SENT, backTo(r, h) + " after failing its health gate");
        sendRevert(r, h);
      } else {
        r.revert(h, RevertState.PENDING, "agent not connected; reverting when it returns");
      }
    }
  }

  private void end(Rollout r, DeploymentState state) {
    if (state == DeploymentState.COMPLETED && r.kind.changesFlags() && wholeEnvironment(r.d)) {
      // Before the state: a crash in between completes the rollout again, and merging twice is merging once.
      store.environmentFlags(r.d.environment(), r.d.app(), r.d.flags(), clock.instant());
    }
    r.setState(state, r.reason);
    active.remove(r.d.id());
    downloads.values().removeIf(x -> x.deploymentId().equals(r.d.id()));
    audit("controller", state.label(), r.d.id(), r.release() + ": " + r.tally() + (r.reason.isEmpty() ? "" : "; " + r.reason));
    log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, r.d.id())
        .log("deployment {} of {} {}: {}", r.d.id(), r.release(), state.label(), r.tally());
  }

  /** A change to every host of its environment, not narrowed to some of them by a selector. */
  private boolean wholeEnvironment(Deployment d) {
    return environments.current().get(d.environment()).map(e -> e.selector().text().equals(d.selector()))
        .orElse(false);
  }

  private void tick() {
    try {
      Instant now = clock.instant();
      for (Rollout r : List.copyOf(active.values())) {
        Duration timeout = r.strategy.hostTimeout();
        for (Deployment.Host h : List.copyOf(r.hosts.values())) {
          // The controller's own downtime never counts against a host: after a restart, time starts over.
          Instant since = h.updatedAt().isBefore(startedAt) ? startedAt : h.updatedAt();
          boolean stuck = now.isAfter(since.plus(timeout));
          if (!stuck) {
            continue;
          }
          if (h.phase().equals("WAITING")) {
            r.move(h, "UNREACHABLE", "unreachable", "agent " + h.agentId() + " did not connect within "
                + Durations.format(timeout) + " (--host-timeout)");
          } else if (!h.done() && !h.phase().equals("PENDING")) {
            r.move(h, "TIMED_OUT", "timed_out", "no progress for " + Durations.format(timeout) + " (last: " + h.phase()
                + ", --host-timeout)");
          } else if (reverting(h).open()) {
            r.revert(h, RevertState.FAILED, "no answer to the rollback within " + Durations.format(timeout));
          }
        }
        advance(r);
      }
    } catch (RuntimeException e) {
      log.error("rollout tick failed: {}", e.getMessage(), e);
    }
  }

  // ---- change windows ----

  /**
   * Why {@code hosts} may not change now, if they may not: the first environment among theirs
   * that is outside its window or frozen. Rollbacks and overridden deployments always may.
   */
  private Optional<String> closedFor(Rollout r, int batch) {
    if (!r.kind.keepsToWindows() || !r.windowOverride.isEmpty()) {
      return Optional.empty();
    }
    Environments envs = environments.current();
    return closed(envs, r.environmentsOf(batch, envs)).map(c -> "waits for a change window: " + c);
  }

  /** The environment names of {@code agents}, each once. */
  private static Set<String> environmentsOf(List<StoredAgent> agents, Environments envs) {
    Set<String> names = new java.util.LinkedHashSet<>();
    agents.forEach(a -> envs.of(a).ifPresent(e -> names.add(e.name())));
    return names;
  }

  /** The first of {@code names} closed now, as "production is outside ...; it opens ...". */
  private Optional<String> closed(Environments envs, Set<String> names) {
    Instant now = clock.instant();
    for (Environment e : names.stream().map(envs::get).flatMap(Optional::stream).toList()) {
      Optional<Schedule.Closed> c = e.schedule().closed(now);
      if (c.isPresent()) {
        return Optional.of(e.name() + " is " + c.get().why() + "; it opens " + e.schedule().show(c.get().opens()));
      }
    }
    return Optional.empty();
  }

  // ---- planning ----

  private record Prepared(Strategy strategy, Plan plan, Map<String, HostApp> hostApps) {
    String before(String agentId) {
      HostApp a = hostApps.get(agentId);
      return a == null ? "" : a.currentVersion();
    }

    String beforeConfig(String agentId) {
      HostApp a = hostApps.get(agentId);
      return a == null ? "" : a.configDigest();
    }
  }

  private Prepared prepare(Request request, boolean starting) {
    DeploymentKind kind = request.kindOf();
    Strategy strategy = Strategy.of(request.options(), kind.strategyDefaults());
    if (kind.installs() && store.release(request.app(), request.version()).isEmpty()) {
      throw new Refused("no release " + request.release() + "; push it first with 'rackroll release push FILE'");
    }
    Selector selector = Selector.parse(request.selector());
    List<StoredAgent> chosen = store.agents().stream().filter(a -> selector.matches(AgentAttributes.of(a))).toList();
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
    if (starting && kind.keepsToWindows() && request.windowOverride().isEmpty()) {
      Optional<String> closed = closed(environments.current(), environmentsOf(chosen, environments.current()));
      if (closed.isPresent()) {
        throw new Refused(closed.get() + "; to " + kind.verb() + " now anyway (audited): --override-window --reason TEXT");
      }
    }
    for (Rollout r : active.values()) {
      List<String> busy = chosen.stream().map(StoredAgent::id).filter(r.hosts::containsKey).sorted().toList();
      if (!busy.isEmpty()) {
        throw new Refused(busy.size() + " selected host(s) (" + String.join(", ", busy.subList(0, Math.min(3,
            busy.size()))) + (busy.size() > 3 ? ", ..." : "") + ") are in running deployment " + r.d.id() + " of "
            + r.release() + "; wait for it to end or abort it with 'rackroll deployment abort " + r.d.id() + "'");
      }
    }
    Map<String, HostApp> apps = store.hostApps(request.app());
    Map<String, ReportedFlags> flags = kind.changesFlags() ? store.hostFlags(request.app()) : Map.of();
    Map<String, String> digests = new HashMap<>(); // an environment's hosts share its configuration
    List<Candidate> candidates = new ArrayList<>();
    for (StoredAgent a : chosen) {
      HostApp app = apps.get(a.id());
      String unchanged = switch (kind) {
        case FLAGS -> app == null || app.currentVersion().isEmpty() ? "does not run " + request.app()
            : FlagValues.holds(flags.containsKey(a.id()) ? flags.get(a.id()).flags() : Map.of(), request.flags())
                ? "already has " + FlagValues.show(request.flags()) : "";
        case RECONFIGURE -> app == null || !app.healthyOn(request.version())
            ? "does not run " + request.release() + " healthily; deploy it there instead"
            : app.configDigest().equals(digests.computeIfAbsent(environments.current().of(a).map(Environment::name)
                .orElse(""), n -> environments.configurationOf(a).digest()))
                ? "already runs " + request.app() + "@" + request.version() + " with its environment's values" : "";
        case DEPLOY, ROLLBACK -> app != null && !request.version().isEmpty() && app.healthyOn(request.version())
            ? "already runs " + request.release() + " and is healthy" : "";
      };
      String hostname = a.facts() == null ? "" : a.facts().getHostname();
      String offlineSince = registry.live(a.id()).isPresent() ? "" : String.valueOf(a.stateSince());
      candidates.add(new Candidate(a.id(), hostname.isEmpty() ? a.id() : hostname,
          a.labels().getOrDefault(strategy.failureDomain(), ""), offlineSince, unchanged));
    }
    return new Prepared(strategy, Planner.plan(candidates, strategy), apps);
  }

  private static String summary(Strategy s) {
    StringBuilder b = new StringBuilder();
    s.toOptions().forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append('=').append(v));
    return b.toString();
  }

  private void audit(String actor, String action, String target, String detail) {
    store.audit(AuditEntry.of(clock.instant(), actor, action, target, detail));
  }

  // ---- plumbing ----

  private void post(Runnable event) {
    Threads.post(loop, () -> {
      try {
        event.run();
      } catch (RuntimeException e) {
        log.error("rollout event failed: {}", e.getMessage(), e);
      }
    });
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

  /** One deployment that has not ended, as the loop sees it. Every change goes to the store first. */
  private final class Rollout {
    final Deployment d;
    final Strategy strategy;
    final boolean canary;
    final Map<String, Deployment.Host> hosts = new LinkedHashMap<>();
    /** Each host's current release of the app, from its reports. */
    final Map<String, String> current = new HashMap<>();
    final Map<String, HostApp> apps;
    final DeploymentKind kind;
    /** Changed only by {@link #setState}, which checks the move against {@link DeploymentState}'s table. */
    DeploymentState state;
    String reason;
    String windowOverride;
    int batch;
    /** When the current batch's health gate began; not stored: a restart starts the gate over. */
    Instant gateStartedAt;
    /** The release sent to hosts, read once on first use (releases never change). */
    private Optional<StoredRelease> storedRelease;
    /**
     * Each environment's flags of the app, read once on first use: they change only when a flag
     * change to a whole environment completes, which no rollout on its hosts runs beside.
     */
    private Map<String, Map<String, String>> environmentFlags;
    /** Each batch's hosts, from the plan (which never changes), so an event does not scan the whole fleet. */
    private final Map<Integer, List<String>> batches = new HashMap<>();
    private final Map<Integer, Set<String>> batchEnvironments = new HashMap<>();
    private int batchEnvironmentsVersion = -1;
    /** Hosts in a {@link #FAILED} phase; kept by {@link #move}, the only place a phase changes. */
    private int failures;

    Rollout(Deployment d, Map<String, HostApp> apps) {
      this.d = d;
      this.apps = apps;
      this.kind = DeploymentKind.of(d.kind());
      this.strategy = Strategy.of(d.strategy(), kind.strategyDefaults());
      this.canary = strategy.canary().value() > 0;
      this.state = DeploymentState.of(d.state());
      this.reason = d.reason();
      this.windowOverride = d.windowOverride();
      this.batch = d.batch();
      for (Deployment.Host h : d.hosts()) {
        hosts.put(h.agentId(), h);
        batches.computeIfAbsent(h.batch(), b -> new ArrayList<>()).add(h.agentId());
        failures += FAILED.contains(h.phase()) ? 1 : 0;
      }
      apps.forEach((id, a) -> current.put(id, a.currentVersion()));
    }

    String release() {
      return kind.describe(d.app(), d.version(), d.flags());
    }

    Optional<StoredRelease> storedRelease() {
      if (storedRelease == null) {
        storedRelease = store.release(d.app(), d.version());
      }
      return storedRelease;
    }

    Map<String, String> environmentFlags(String environment) {
      if (environmentFlags == null) {
        environmentFlags = store.environmentFlags(d.app());
      }
      return environmentFlags.getOrDefault(environment, Map.of());
    }

    String current(String agentId) {
      return current.getOrDefault(agentId, "");
    }

    /** The hosts of batch {@code index}, as they are now. */
    List<Deployment.Host> batch(int index) {
      return batches.getOrDefault(index, List.of()).stream().map(hosts::get).toList();
    }

    int failures() {
      return failures;
    }

    /** The environments of batch {@code index}'s hosts; read from the store once per batch and file version. */
    Set<String> environmentsOf(int index, Environments envs) {
      if (envs.version() != batchEnvironmentsVersion) {
        batchEnvironments.clear();
        batchEnvironmentsVersion = envs.version();
      }
      return batchEnvironments.computeIfAbsent(index, i -> Rollouts.environmentsOf(batches.getOrDefault(i, List.of())
          .stream().map(store::agent).flatMap(Optional::stream).toList(), envs));
    }

    /** Hosts that were sent their command and have not ended. */
    int inFlight() {
      return (int) hosts.values().stream().filter(h -> !h.done() && !h.phase().equals("PENDING")
          && !h.phase().equals("WAITING")).count();
    }

    boolean inGate(Deployment.Host h) {
      Deployment.Host now = hosts.get(h.agentId());
      return state == DeploymentState.RUNNING && gateStartedAt != null && now.batch() == batch && now.phase().equals("ACTIVE");
    }

    /** Changed by this deployment and not back. */
    boolean needsRevert(Deployment.Host h) {
      return h.batch() >= 0 && (reverting(h) == RevertState.NONE ? changed(h) : reverting(h) != RevertState.REVERTED);
    }

    /**
     * This deployment changed the host, as far as the controller knows: it runs the deployment's
     * release and had another before; for a reconfigure or flag change, the host took the change
     * (its report said so, or it failed its gate after).
     */
    boolean changed(Deployment.Host h) {
      return switch (kind) {
        case FLAGS, RECONFIGURE -> !h.beforeVersion().isEmpty() && (h.phase().equals("ACTIVE")
            || h.phase().equals("UNHEALTHY") || h.phase().equals("TIMED_OUT"));
        case DEPLOY, ROLLBACK -> !h.beforeVersion().isEmpty() && !h.beforeVersion().equals(d.version())
            && current(h.agentId()).equals(d.version());
      };
    }

    void move(Deployment.Host h, String phase, String kind, String failure) {
      Instant now = clock.instant();
      store.hostPhase(d.id(), h.agentId(), phase, kind, failure, now);
      Deployment.Host was = hosts.put(h.agentId(), hosts.get(h.agentId()).with(phase, kind, failure, now));
      failures += (FAILED.contains(phase) ? 1 : 0) - (FAILED.contains(was.phase()) ? 1 : 0);
      if (FAILED.contains(phase) && !FAILED.contains(was.phase())) {
        log.atWarn().addKeyValue(ServiceLogging.DEPLOYMENT, d.id()).addKeyValue(ServiceLogging.AGENT, h.agentId())
            .log("deployment {}: host {} {}: {}", d.id(), h.agentId(), phase, failure);
      }
    }

    void touch(Deployment.Host h) {
      hosts.put(h.agentId(), hosts.get(h.agentId()).withRevert(h.revert(), clock.instant()));
    }

    /** The one place a host's revert state changes: checked against {@link RevertState}'s table, stored, then kept. */
    void revert(Deployment.Host h, RevertState revert, String detail) {
      reverting(hosts.get(h.agentId())).checkTransition(revert);
      Instant now = clock.instant();
      store.hostRevert(d.id(), h.agentId(), revert.label(), detail, now);
      hosts.put(h.agentId(), hosts.get(h.agentId()).withRevert(revert.label(), now));
    }

    void setState(DeploymentState state, String reason) {
      this.state.checkTransition(state);
      store.deploymentState(d.id(), state.label(), batch, reason, clock.instant());
      this.state = state;
      this.reason = reason;
    }

    String tally() {
      Map<String, Integer> counts = new java.util.TreeMap<>();
      hosts.values().forEach(h -> counts.merge(h.phase().toLowerCase(java.util.Locale.ROOT).replace('_', ' '), 1,
          Integer::sum));
      StringBuilder b = new StringBuilder();
      counts.forEach((p, n) -> b.append(b.length() == 0 ? "" : ", ").append(n).append(' ').append(p));
      return b.toString();
    }
  }
}
