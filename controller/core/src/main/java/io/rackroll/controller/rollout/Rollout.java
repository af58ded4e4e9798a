package io.rackroll.controller.rollout;

import io.rackroll.controller.env.Environments;
import io.rackroll.controller.rollout.Rollouts.Refused;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.HostApp;
import io.rackroll.controller.store.HostPhase;
import io.rackroll.controller.store.StoredAgent;
import io.rackroll.controller.store.StoredRelease;
import io.rackroll.controller.strategy.Strategy;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.wire.Durations;
import io.rackroll.wire.Names;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One deployment that has not ended: its state machine. Every event (a host's report, a
 * connection, an admin's action, the tick) ends in {@link #advance}, which moves the deployment as
 * far as it can go now and is safe to call again. Three tables bound every change: the
 * deployment's {@link DeploymentState}, each host's {@link HostPhase} and {@link RevertState}; each
 * changes in one method here ({@link #setState}, {@link #move}, {@link #revert}), which checks the
 * move, writes it to the store, and only then keeps it.
 *
 * <p>Not thread-safe: the event loop ({@link Rollouts}) is its only caller.
 */
final class Rollout {
  private static final Logger log = LoggerFactory.getLogger(Rollout.class);

  final Deployment d;
  final DeploymentKind kind;
  final Strategy strategy;
  /** Each host's release of the app when the deployment was planned or loaded. */
  final Map<String, HostApp> apps;
  private final RolloutContext ctx;
  private final boolean canary;
  private final Map<String, Deployment.Host> hosts = new LinkedHashMap<>();
  /** Each host's current release of the app, from its reports. */
  private final Map<String, String> current = new HashMap<>();
  /** Changed only by {@link #setState}, which checks the move against {@link DeploymentState}'s table. */
  private DeploymentState state;
  private String reason;
  String windowOverride;
  private int batch;
  /** When the current batch's health gate began; not stored: a restart starts the gate over. */
  private Instant gateStartedAt;
  /** The release sent to hosts, read once on first use (releases never change). */
  private Optional<StoredRelease> storedRelease;
  /** The release's requires, parsed once from its manifest. */
  private io.rackroll.proto.v1.Requirements requires;
  /**
   * Each environment's flags of the app, read once on first use: they change only when a flag
   * change to a whole environment completes, which no rollout on its hosts runs beside.
   */
  private Map<String, Map<String, String>> environmentFlags;
  /** Each batch's hosts, from the plan (which never changes), so an event does not scan the whole fleet. */
  private final Map<Integer, List<String>> batches = new HashMap<>();
  private final Map<Integer, Set<String>> batchEnvironments = new HashMap<>();
  private int batchEnvironmentsVersion = -1;
  /** Notes already recorded, as "agent/WHAT", so a report repeated at each reconnect is kept once. */
  private final Set<String> noted = new HashSet<>();
  /** Each host's agent record, read once: labels change only when a host is replaced. */
  private final Map<String, Optional<StoredAgent>> agents = new HashMap<>();
  /** Hosts in a phase that counts as a failure; kept by {@link #move}, the only place a phase changes. */
  private int failures;

  /**
   * @param strategy how it rolls out: the plan's when it starts, the stored options parsed when a
   *     restarted controller loads it
   */
  Rollout(Deployment d, Strategy strategy, Map<String, HostApp> apps, RolloutContext ctx) {
    this.d = d;
    this.apps = apps;
    this.ctx = ctx;
    this.kind = DeploymentKind.of(d.kind());
    this.strategy = strategy;
    this.canary = strategy.canary().value() > 0;
    this.state = DeploymentState.of(d.state());
    this.reason = d.reason();
    this.windowOverride = d.windowOverride();
    this.batch = d.batch();
    for (Deployment.Host h : d.hosts()) {
      hosts.put(h.agentId(), h);
      batches.computeIfAbsent(h.batch(), b -> new ArrayList<>()).add(h.agentId());
      failures += h.phase().failure() ? 1 : 0;
    }
    apps.forEach((id, a) -> current.put(id, a.currentVersion()));
  }

  DeploymentState state() {
    return state;
  }

  int batchIndex() {
    return batch;
  }

  /** Whether {@code agentId} is one of its hosts. */
  boolean has(String agentId) {
    return hosts.containsKey(agentId);
  }

  Optional<Deployment.Host> host(String agentId) {
    return Optional.ofNullable(hosts.get(agentId));
  }

  String release() {
    return kind.describe(d.app(), d.version(), d.flags());
  }

  // ---- events ----

  /** An admin's pause, resume, approve or abort (with {@code rollback}: then return changed hosts). */
  void control(String action, boolean rollback, String reason, String admin) {
    DeploymentState was = state;
    switch (action) {
      case "pause" -> {
        require(action, DeploymentState.RUNNING, DeploymentState.AWAITING_APPROVAL, DeploymentState.WAITING_WINDOW);
        setState(DeploymentState.PAUSED, "paused by " + admin);
      }
      case "resume" -> {
        require(action, DeploymentState.PAUSED, DeploymentState.WAITING_WINDOW);
        if (was == DeploymentState.WAITING_WINDOW && ctx.windows.closedFor(this, batch).isPresent()) {
          if (reason.isBlank()) {
            throw new Refused("deployment " + d.id() + " " + this.reason + "; to go ahead now, outside the window"
                + " (audited): rackroll deployment resume " + d.id() + " --reason TEXT");
          }
          ctx.store.deployments().overrideWindows(d.id(), reason);
          windowOverride = reason;
        }
        setState(DeploymentState.RUNNING, "");
      }
      case "approve" -> {
        require(action, DeploymentState.AWAITING_APPROVAL);
        batch++;
        gateStartedAt = null;
        setState(DeploymentState.RUNNING, "");
      }
      case "abort" -> {
        require(action, DeploymentState.RUNNING, DeploymentState.AWAITING_APPROVAL, DeploymentState.PAUSED,
            DeploymentState.WAITING_WINDOW, DeploymentState.HALTING);
        setState(rollback ? DeploymentState.ROLLING_BACK : DeploymentState.ABORTING, "aborted by " + admin);
      }
      default -> throw new Refused("unknown action " + action);
    }
    ctx.audit(admin, action + (rollback ? " --rollback" : ""), d.id(), "from " + was.label()
        + (reason.isBlank() ? "" : "; reason: " + reason));
    advance();
  }

  private void require(String action, DeploymentState... states) {
    if (!List.of(states).contains(state)) {
      throw new Refused("cannot " + action + " deployment " + d.id() + ": it is " + state.label() + " (" + action
          + " needs it " + String.join(" or ", Arrays.stream(states).map(DeploymentState::label).toList()) + ")");
    }
  }

  /** Its agent connected (again): whatever it was sent and has not answered goes out again. */
  void connected(String agentId) {
    Deployment.Host h = hosts.get(agentId);
    if (reverting(h) == RevertState.SENT) {
      ctx.commands.sendRevert(this, h); // the first may have been lost with the controller or the connection
    } else if (h.phase().inFlight()) {
      // Likewise; the agent reports a job it already ran instead of running it again.
      if (ctx.commands.send(this, h).isEmpty()) {
        refuse(h);
      }
    }
    advance();
  }

  /**
   * Another node led until now: every host that is connected hears again what it was sent last, as
   * if it had just reconnected (those that are not will be told when they do).
   */
  void takenOver() {
    for (String agentId : List.copyOf(hosts.keySet())) {
      if (ctx.commands.connected(agentId)) {
        connected(agentId);
      }
    }
    advance();
  }

  void disconnected(String agentId) {
    Deployment.Host h = hosts.get(agentId);
    if (inGate(h)) {
      failGate(h, "disconnected during the " + Durations.format(strategy.healthGate()) + " health gate");
      advance();
    }
  }

  /** A host not heard from for longer than its heartbeats allow: in a health gate, that is a failure. */
  void silent(String agentId) {
    Deployment.Host h = hosts.get(agentId);
    if (inGate(h)) {
      failGate(h, "silent during the " + Durations.format(strategy.healthGate()) + " health gate (no heartbeat)");
      advance();
    }
  }

  /** An unhealthy report from a host of this deployment's app. */
  void unhealthy(String agentId, String line) {
    Deployment.Host h = hosts.get(agentId);
    if (inGate(h)) {
      failGate(h, "unhealthy during the " + Durations.format(strategy.healthGate()) + " health gate: " + line);
      advance();
    }
  }

  /**
   * A host's report of its job or flag change, for this deployment or its revert. Moves the host
   * on when its phase table allows; a report it does not allow (for a host never sent its
   * command, or one that ended) is late or stray and changes nothing. {@code release} is the
   * release the host's job goes to (empty for a flags change).
   */
  void reported(String agentId, boolean revert, String name, String failureKind, String failure,
      String release, Optional<String> currentVersion) {
    Deployment.Host h = hosts.get(agentId);
    if (!revert && h.version().isEmpty() && !release.isEmpty()) {
      // A rollback to each host's previous release: the record says which one this host went to.
      ctx.store.deployments().hostVersion(d.id(), agentId, release);
      h = h.withVersion(release);
      hosts.put(agentId, h);
    }
    currentVersion.ifPresent(v -> current.put(agentId, v));
    Optional<HostPhase> reported = HostPhase.reported(name);
    if (reported.isEmpty()) {
      log.atWarn().addKeyValue(ServiceLogging.DEPLOYMENT, d.id()).addKeyValue(ServiceLogging.AGENT, agentId)
          .log("deployment {}: host {} reported a phase this controller does not know ({}); ignored", d.id(), agentId,
              Names.printable(name));
      return;
    }
    HostPhase phase = reported.get();
    if (state.ended()) {
      reconcile(h, revert, phase, currentVersion.orElse(""), failure);
      return;
    }
    if (revert) {
      revertReported(h, phase, currentVersion.orElse(""), failure);
    } else if (h.phase() != phase && !h.done() && h.phase().allows(phase)) {
      boolean unfit = phase == HostPhase.FAILED && failureKind.equals("refused") && strategy.skipUnfit();
      move(h, unfit ? HostPhase.SKIPPED : phase, unfit ? "unfit" : failureKind, failure);
    } else if (h.done() && h.phase() != phase && phase.done()) {
      late(h, phase);
    }
    advance();
  }

  /**
   * A report after the deployment ended: news, not noise. The host's real end is recorded in its
   * history, and a host found on the release its deployment took back (it was frozen past its
   * timeout and woke up, or resumed a job by itself) is sent back to its release before.
   */
  private void reconcile(Deployment.Host h, boolean revert, HostPhase phase, String currentVersion, String failure) {
    if (revert) {
      revertReported(h, phase, currentVersion, failure);
      return;
    }
    if (h.phase() != phase && phase.done()) {
      late(h, phase);
    }
    boolean tookBack = state == DeploymentState.ROLLED_BACK || state == DeploymentState.ROLLBACK_FAILED
        || (state == DeploymentState.FAILED && strategy.autoRollback()) || reverting(h) != RevertState.NONE;
    if (phase == HostPhase.ACTIVE && tookBack && kind.changed(h.with(HostPhase.ACTIVE, "", "", h.updatedAt()),
        d.version(), currentVersion)) {
      if (reverting(h) != RevertState.SENT) {
        revert(h, RevertState.SENT, kind.backTo(h.beforeVersion()) + ": it reported " + release()
            + " after the deployment had ended " + state.label());
      }
      if (ctx.commands.connected(h.agentId())) {
        ctx.commands.sendRevert(this, h);
      }
      ctx.audit("controller", "reconcile", d.id(), h.agentId() + " reported " + release() + " after the deployment"
          + " ended " + state.label() + "; sent back: " + kind.backTo(h.beforeVersion()));
    }
  }

  /**
   * The host rolled back by itself, unhealthy within its release's bake time (perhaps while this
   * controller was away), and is now on {@code currentVersion}. In a running deployment it counts
   * as failed like a host unhealthy in its gate (nothing to send back: it is back); after the
   * deployment ended it goes into the host's history.
   */
  void rolledBackByItself(String agentId, String currentVersion) {
    Deployment.Host h = hosts.get(agentId);
    current.put(agentId, currentVersion);
    String why = "rolled back by itself to " + currentVersion + ": unhealthy within its bake time";
    if (!state.ended() && h.phase() == HostPhase.ACTIVE) {
      move(h, HostPhase.UNHEALTHY, "unhealthy", why);
      advance();
    } else {
      note(agentId, "BAKE_ROLLED_BACK", why);
    }
  }

  /** A report of how a host really ended, after it was counted otherwise: kept in its history, once. */
  private void late(Deployment.Host h, HostPhase phase) {
    note(h.agentId(), "LATE_" + phase.name(), "reported " + phase.name() + " after the deployment counted it "
        + h.phase().name());
  }

  /** Records {@code what} in the host's history, once however often its agent reports it again. */
  private void note(String agentId, String what, String detail) {
    if (noted.add(agentId + "/" + what)) {
      ctx.store.deployments().hostNote(d.id(), agentId, what, detail, ctx.clock.instant());
    }
  }

  /** Progress without a transition, while the host downloads: it keeps --host-timeout from running out. */
  boolean downloading(String agentId) {
    Deployment.Host h = hosts.get(agentId);
    if (h == null || h.phase() != HostPhase.DOWNLOADING) {
      return false;
    }
    touch(h);
    return true;
  }

  /** The tick: hosts without progress for --host-timeout time out, then the deployment moves on. */
  void tick() {
    Instant now = ctx.clock.instant();
    Duration timeout = strategy.hostTimeout();
    for (Deployment.Host h : List.copyOf(hosts.values())) {
      boolean stuck = now.isAfter(ctx.sinceStart(h.updatedAt()).plus(timeout));
      if (!stuck) {
        continue;
      }
      if (h.phase() == HostPhase.WAITING) {
        move(h, HostPhase.UNREACHABLE, "unreachable", "agent " + h.agentId() + " did not connect within "
            + Durations.format(timeout) + " (--host-timeout)");
      } else if (h.phase().inFlight()) {
        move(h, HostPhase.TIMED_OUT, "timed_out", "no progress for " + Durations.format(timeout) + " (last: "
            + h.phase() + ", --host-timeout)");
      } else if (reverting(h).open()) {
        revert(h, RevertState.FAILED, "no answer to the rollback within " + Durations.format(timeout));
      }
    }
    advance();
  }

  // ---- the state machine ----

  /** Moves the deployment as far as it can go now. Idempotent: every event ends by calling it. */
  void advance() {
    if (!state.stopping() && failures > d.allowedFailures()) {
      String why = "failure budget spent: " + failures + " host(s) failed, " + d.allowedFailures()
          + " allowed (--max-failures " + strategy.maxFailures() + ")";
      setState(strategy.autoRollback() ? DeploymentState.ROLLING_BACK : DeploymentState.HALTING, why);
      ctx.audit("controller", "halt", d.id(), why);
    }
    switch (state) {
      case RUNNING -> runBatch();
      case ABORTING, HALTING -> {
        if (inFlight() == 0) {
          end(state == DeploymentState.ABORTING ? DeploymentState.ABORTED : DeploymentState.FAILED);
        }
      }
      case ROLLING_BACK -> revertChanged();
      case WAITING_WINDOW -> {
        if (ctx.windows.closedFor(this, batch).isEmpty()) {
          setState(DeploymentState.RUNNING, "");
          ctx.audit("controller", "resume", d.id(), "change window open");
          runBatch();
        }
      }
      default -> { } // paused, awaiting_approval: reports still land, nothing new starts; ended: nothing
    }
  }

  /** Sends the batch in progress, waits for its hosts and its health gate, then starts the next. */
  private void runBatch() {
    while (true) {
      List<Deployment.Host> hosts = batch(batch);
      boolean starting = hosts.stream().allMatch(h -> h.phase() == HostPhase.PENDING);
      if (starting && !hosts.isEmpty()) {
        Optional<String> closed = ctx.windows.closedFor(this, batch);
        if (closed.isPresent()) {
          setState(DeploymentState.WAITING_WINDOW, closed.get());
          ctx.audit("controller", "wait for window", d.id(), "before batch " + (batch + 1) + ": " + closed.get());
          log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, d.id()).log("deployment {} {}", d.id(), closed.get());
          return;
        }
      }
      for (Deployment.Host h : hosts) {
        if (h.phase() == HostPhase.PENDING || h.phase() == HostPhase.WAITING) {
          dispatch(h);
        }
      }
      if (failures > d.allowedFailures()) {
        advance();
        return;
      }
      if (!batch(batch).stream().allMatch(Deployment.Host::done)) {
        return;
      }
      Instant now = ctx.clock.instant();
      boolean gated = !strategy.healthGate().isZero()
          && batch(batch).stream().anyMatch(h -> h.phase() == HostPhase.ACTIVE);
      if (gated) {
        if (gateStartedAt == null) {
          gateStartedAt = now;
          log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, d.id())
              .log("deployment {}: batch {} of {} done; health gate until {}", d.id(), batch + 1, d.batches(),
                  now.plus(strategy.healthGate()));
          ctx.wakeUpIn(d.id(), strategy.healthGate());
        }
        if (now.isBefore(gateStartedAt.plus(strategy.healthGate()))) {
          return; // the tick comes back
        }
        // A gate is passed by hosts heard from at its end: silence is no proof of health. A host not
        // heard from (its agent still reconnecting after this controller restarted, say) is waited
        // for up to --host-timeout past the gate's end, then fails it.
        Instant gateEnd = gateStartedAt.plus(strategy.healthGate());
        boolean failed = false;
        boolean waiting = false;
        for (Deployment.Host h : batch(batch)) {
          if (h.phase() != HostPhase.ACTIVE || ctx.commands.heard(h.agentId())) {
            continue;
          }
          if (now.isBefore(gateEnd.plus(strategy.hostTimeout()))) {
            waiting = true;
            continue;
          }
          failGate(h, (ctx.commands.connected(h.agentId()) ? "silent" : "not connected") + " since the end of the "
              + Durations.format(strategy.healthGate()) + " health gate (" + Durations.format(strategy.hostTimeout())
              + ", --host-timeout)");
          failed = true;
        }
        if (failed) {
          advance();
          return;
        }
        if (waiting) {
          return; // the tick comes back
        }
      }
      gateStartedAt = null;
      if (batch + 1 >= d.batches()) {
        end(DeploymentState.COMPLETED);
        return;
      }
      if (batch == 0 && canary && strategy.approveAfterCanary()) {
        setState(DeploymentState.AWAITING_APPROVAL, "canary done; approve with 'rackroll deployment approve " + d.id()
            + "'");
        ctx.audit("controller", "await approval", d.id(), "canary done");
        return;
      }
      batch++;
      setState(DeploymentState.RUNNING, ""); // records the batch
    }
  }

  /** Sends a PENDING or WAITING host its command, or applies --offline when it is not connected. */
  private void dispatch(Deployment.Host h) {
    if (ctx.commands.connected(h.agentId())) {
      move(h, HostPhase.SENT, "", "");
      Optional<Boolean> sent = ctx.commands.send(this, h);
      if (sent.isEmpty()) {
        refuse(h);
        return;
      }
      if (sent.get()) {
        return;
      }
    }
    Strategy.Offline offline = ctx.inReconnectGrace() ? Strategy.Offline.WAIT : strategy.offline();
    String why = "agent " + h.agentId() + " is not connected";
    switch (offline) {
      case SKIP -> move(h, HostPhase.SKIPPED, "offline", why + " (--offline skip)");
      case FAIL -> move(h, HostPhase.UNREACHABLE, "unreachable", why + " (--offline fail)");
      case WAIT -> {
        if (hosts.get(h.agentId()).phase() != HostPhase.WAITING) {
          move(h, HostPhase.WAITING, "", why + "; waiting up to " + Durations.format(strategy.hostTimeout()));
        }
      }
    }
  }

  /** A host whose release was never pushed and which does not keep it: nothing to send it. */
  private void refuse(Deployment.Host h) {
    move(h, HostPhase.FAILED, "refused", d.app() + "@" + d.version() + " is not kept on this host and no such release"
        + " was pushed; push it or roll back to a kept version");
  }

  /** Returns changed hosts to their release before, in batches, once nothing is in flight. */
  private void revertChanged() {
    if (inFlight() > 0) {
      return;
    }
    List<Deployment.Host> targets = hosts.values().stream().filter(this::needsRevert).toList();
    int size = Math.max(1, strategy.batch().ceilOf(Math.max(1, targets.size())));
    Map<String, Integer> perDomain = new HashMap<>();
    int sending = 0;
    for (Deployment.Host h : hosts.values()) {
      if (reverting(h) == RevertState.SENT) {
        sending++;
        perDomain.merge(h.domain(), 1, Integer::sum);
      }
    }
    for (Deployment.Host h : targets) {
      if (reverting(h) != RevertState.NONE && reverting(h) != RevertState.PENDING) {
        continue;
      }
      if (sending >= size || (strategy.maxPerRack() > 0
          && perDomain.getOrDefault(h.domain(), 0) >= strategy.maxPerRack())) {
        continue;
      }
      if (!ctx.commands.connected(h.agentId())) {
        if (reverting(h) == RevertState.NONE) {
          revert(h, RevertState.PENDING, "agent not connected; reverting when it returns");
        }
        continue;
      }
      revert(h, RevertState.SENT, kind.backTo(h.beforeVersion()));
      ctx.commands.sendRevert(this, h);
      sending++;
      perDomain.merge(h.domain(), 1, Integer::sum);
    }
    boolean open = hosts.values().stream().anyMatch(h -> reverting(h).open());
    if (!open && targets.stream().allMatch(h -> reverting(hosts.get(h.agentId())) != RevertState.NONE)) {
      if (failures > d.allowedFailures() && hosts.values().stream().allMatch(h -> reverting(h) == RevertState.NONE)) {
        // The budget was spent, but every failed host went back by itself or never changed: nothing
        // was rolled back, so the deployment failed. A late host is still sent back (reconcile).
        end(DeploymentState.FAILED);
        return;
      }
      boolean failed = hosts.values().stream().anyMatch(h -> reverting(h) == RevertState.FAILED);
      end(failed ? DeploymentState.ROLLBACK_FAILED : DeploymentState.ROLLED_BACK);
    }
  }

  private void revertReported(Deployment.Host h, HostPhase phase, String currentVersion, String failure) {
    if (reverting(h) == RevertState.FAILED && phase == HostPhase.ACTIVE) {
      // It did not answer in time (frozen, cut off), then did what it was told: the record says so.
      revert(h, RevertState.REVERTED, kind.reverted(currentVersion) + ", after its revert was counted failed");
      return;
    }
    if (reverting(h) != RevertState.SENT) {
      return;
    }
    switch (phase) {
      case ACTIVE -> revert(h, RevertState.REVERTED, kind.reverted(currentVersion));
      case FAILED, ROLLED_BACK -> revert(h, RevertState.FAILED, failure);
      default -> touch(h);
    }
  }

  /** A host that failed its health gate after it was done: counted, and returned to its release before. */
  private void failGate(Deployment.Host h, String why) {
    move(h, HostPhase.UNHEALTHY, "unhealthy", why);
    if (reverting(h) == RevertState.NONE && changed(hosts.get(h.agentId()))) {
      if (ctx.commands.connected(h.agentId())) {
        revert(h, RevertState.SENT, kind.backTo(h.beforeVersion()) + " after failing its health gate");
        ctx.commands.sendRevert(this, h);
      } else {
        revert(h, RevertState.PENDING, "agent not connected; reverting when it returns");
      }
    }
  }

  private void end(DeploymentState end) {
    if (end == DeploymentState.COMPLETED && kind.changesFlags() && wholeEnvironment()) {
      // Before the state: a crash in between completes the rollout again, and merging twice is merging once.
      ctx.store.environments().environmentFlags(d.environment(), d.app(), d.flags(), ctx.clock.instant());
    }
    setState(end, reason);
    ctx.audit("controller", end.label(), d.id(), release() + ": " + tally() + (reason.isEmpty() ? "" : "; " + reason));
    log.atInfo().addKeyValue(ServiceLogging.DEPLOYMENT, d.id())
        .log("deployment {} of {} {}: {}", d.id(), release(), end.label(), tally());
  }

  /** A change to every host of its environment, not narrowed to some of them by a selector. */
  private boolean wholeEnvironment() {
    return ctx.windows.current().get(d.environment()).map(e -> e.selector().text().equals(d.selector()))
        .orElse(false);
  }

  // ---- what the machine reads ----

  Optional<StoredRelease> storedRelease() {
    if (storedRelease == null) {
      storedRelease = ctx.store.releases().release(d.app(), d.version());
    }
    return storedRelease;
  }

  /** The release's requires as a host is sent them; none for a release no longer stored. */
  io.rackroll.proto.v1.Requirements requires() {
    if (requires == null) {
      requires = storedRelease().map(r -> io.rackroll.release.HostFit.toWire(r.requires()))
          .orElse(io.rackroll.proto.v1.Requirements.getDefaultInstance());
    }
    return requires;
  }

  Map<String, String> environmentFlags(String environment) {
    if (environmentFlags == null) {
      environmentFlags = ctx.store.environments().environmentFlags(d.app());
    }
    return environmentFlags.getOrDefault(environment, Map.of());
  }

  /** The hosts of batch {@code index}, as they are now. */
  private List<Deployment.Host> batch(int index) {
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
    return batchEnvironments.computeIfAbsent(index, i -> ChangeWindows.environmentsOf(
        batches.getOrDefault(i, List.of()).stream().map(this::agent).flatMap(Optional::stream).toList(), envs));
  }

  /** The host's agent record, from the store the first time it is needed. */
  Optional<StoredAgent> agent(String agentId) {
    return agents.computeIfAbsent(agentId, id -> ctx.store.agents().agent(id));
  }

  /** Hosts that were sent their command and have not ended. */
  private int inFlight() {
    return (int) hosts.values().stream().filter(h -> h.phase().inFlight()).count();
  }

  private boolean inGate(Deployment.Host h) {
    return h != null && state == DeploymentState.RUNNING && gateStartedAt != null && h.batch() == batch
        && h.phase() == HostPhase.ACTIVE;
  }

  private static RevertState reverting(Deployment.Host h) {
    return RevertState.of(h.revert());
  }

  /** Changed by this deployment and not back. */
  private boolean needsRevert(Deployment.Host h) {
    return h.batch() >= 0 && (reverting(h) == RevertState.NONE ? changed(h) : reverting(h) != RevertState.REVERTED);
  }

  /** This deployment changed the host, as far as the controller knows; see {@link DeploymentKind#changed}. */
  private boolean changed(Deployment.Host h) {
    return kind.changed(h, d.version(), current.getOrDefault(h.agentId(), ""));
  }

  // ---- the only places state changes ----

  /** The one place a host's phase changes: checked against {@link HostPhase}'s table, stored, then kept. */
  private void move(Deployment.Host h, HostPhase phase, String failureKind, String failure) {
    Deployment.Host was = hosts.get(h.agentId());
    was.phase().checkTransition(phase);
    Instant now = ctx.clock.instant();
    ctx.store.deployments().hostPhase(d.id(), h.agentId(), phase, failureKind, failure, now);
    hosts.put(h.agentId(), was.with(phase, failureKind, failure, now));
    failures += (phase.failure() ? 1 : 0) - (was.phase().failure() ? 1 : 0);
    if (phase.failure() && !was.phase().failure()) {
      log.atWarn().addKeyValue(ServiceLogging.DEPLOYMENT, d.id()).addKeyValue(ServiceLogging.AGENT, h.agentId())
          .log("deployment {}: host {} {}: {}", d.id(), h.agentId(), phase, failure);
    }
  }

  /** Counts as progress for --host-timeout; never stored. */
  private void touch(Deployment.Host h) {
    Deployment.Host now = hosts.get(h.agentId());
    hosts.put(h.agentId(), now.withRevert(now.revert(), ctx.clock.instant()));
  }

  /** The one place a host's revert state changes: checked against {@link RevertState}'s table, stored, then kept. */
  private void revert(Deployment.Host h, RevertState revert, String detail) {
    Deployment.Host was = hosts.get(h.agentId());
    reverting(was).checkTransition(revert);
    Instant now = ctx.clock.instant();
    ctx.store.deployments().hostRevert(d.id(), h.agentId(), revert.label(), detail, now);
    hosts.put(h.agentId(), was.withRevert(revert.label(), now));
  }

  /** The one place the deployment's state changes: checked against {@link DeploymentState}'s table, stored, then kept. */
  private void setState(DeploymentState next, String why) {
    state.checkTransition(next);
    ctx.store.deployments().deploymentState(d.id(), next.label(), batch, why, ctx.clock.instant());
    state = next;
    reason = why;
  }

  /** "2 active, 1 failed". */
  private String tally() {
    Map<String, Integer> counts = new TreeMap<>();
    hosts.values().forEach(h -> counts.merge(h.phase().name().toLowerCase(Locale.ROOT).replace('_', ' '), 1,
        Integer::sum));
    StringBuilder b = new StringBuilder();
    counts.forEach((p, n) -> b.append(b.length() == 0 ? "" : ", ").append(n).append(' ').append(p));
    return b.toString();
  }
}
