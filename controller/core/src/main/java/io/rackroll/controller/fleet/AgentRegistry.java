package io.rackroll.controller.fleet;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.rackroll.controller.store.ConnectionState;
import io.rackroll.controller.store.FlagsReport;
import io.rackroll.controller.store.HostJob;
import io.rackroll.controller.store.AgentStore;
import io.rackroll.controller.store.Commits;
import io.rackroll.controller.store.EventBursts;
import io.rackroll.controller.store.StoredAgent;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.ControllerMessage;
import io.rackroll.proto.v1.DownloadProgress;
import io.rackroll.proto.v1.FlagsUpdate;
import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.HealthReport;
import io.rackroll.proto.v1.Hello;
import io.rackroll.proto.v1.JobUpdate;
import io.rackroll.proto.v1.Ping;
import io.rackroll.proto.v1.Welcome;
import io.rackroll.wire.Backoff;
import io.rackroll.wire.Threads;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live fleet: which agents have a stream open, and whether they are still heard from.
 *
 * <p>Event-driven, with no thread per agent: stream callbacks post events to one serial
 * executor, {@code fleet-events}, which alone mutates the session table and writes connection
 * state to the store, in the order events happened. The same thread runs the periodic sweep
 * that marks silent agents stale and flushes heartbeat times in one batch.
 *
 * <p>Create, {@link #restore()}, then {@link #start()}.
 */
public final class AgentRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentRegistry.class);

  private final AgentStore store;
  private final Clock clock;
  private final LinkSettings settings;
  private final String controllerVersion;
  private final ScheduledExecutorService events;
  /** Stream events, handled in order on {@link #events}, each burst's writes one transaction. */
  private final EventBursts bursts;
  /** Hellos being admitted; bounds the controller's work when every agent reconnects at once. */
  private final Semaphore admitting;
  private static final Duration LAST_SEEN_FLUSH = Duration.ofMinutes(1);
  /** Confined to the events thread. */
  private Instant lastFlush = Instant.EPOCH;
  /** Told about connections and reports; set before {@link #start()}. */
  private volatile FleetListener listener = NO_LISTENER;
  private static final FleetListener NO_LISTENER = new FleetListener() {
    @Override public void connected(String agentId) { }
    @Override public void disconnected(String agentId) { }
    @Override public void job(HostJob job) { }
    @Override public void flags(FlagsReport report) { }
    @Override public void health(String agentId, String app, boolean healthy, String line) { }
    @Override public void downloaded(String agentId, String deploymentId, long bytes, long size) { }
  };
  /** Mutated only on {@link #events}; read from anywhere. */
  private final ConcurrentHashMap<String, AgentSession> sessions = new ConcurrentHashMap<>();

  private final String trustBundlePem;
  /** This controller node's name among several on one database; empty for a single controller. */
  private final String node;
  /** Every controller node's address, this one first, for each welcome; empty for a single controller. */
  private volatile List<String> controllerAddresses = List.of();
  /** Every key statement, in the order pushed: in each welcome, and sent to all when one is added. */
  private volatile List<String> keyStatements = List.of();

  public AgentRegistry(AgentStore store, Commits commits, Clock clock, LinkSettings settings, String controllerVersion,
      String trustBundlePem) {
    this(store, commits, clock, settings, controllerVersion, trustBundlePem, "");
  }

  /** As controller node {@code node} of several on one database. */
  public AgentRegistry(AgentStore store, Commits commits, Clock clock, LinkSettings settings, String controllerVersion,
      String trustBundlePem, String node) {
    this.node = node;
    this.trustBundlePem = trustBundlePem;
    this.store = store;
    this.clock = clock;
    this.settings = settings;
    this.controllerVersion = controllerVersion;
    this.admitting = new Semaphore(settings.maxConcurrentHellos());
    this.events = Threads.serial("fleet-events");
    // The sessions are in memory and stay right when a burst is lost; what the store missed, the
    // next hello, report or sweep writes again.
    this.bursts = new EventBursts("fleet event", events, commits, lost -> { });
  }

  /** After a restart no stream survives: every agent recorded as connected is now disconnected. */
  public void restore() {
    int n = store.disconnectAll(clock.instant());
    if (n > 0) {
      log.info("marked {} agents disconnected until they reconnect", n);
    }
  }

  /** Adds {@code next} to those told of the fleet's events (after those added before it). */
  public void listen(FleetListener next) {
    FleetListener first = this.listener;
    this.listener = first == NO_LISTENER ? next : FleetListener.both(first, next);
  }

  public void start() {
    long every = settings.heartbeatInterval().toMillis();
    events.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
  }

  LinkSettings settings() {
    return settings;
  }

  /**
   * Used by {@link AgentLinkService} when a verified agent says hello. Admission runs on the
   * events thread; the stream is refused with RESOURCE_EXHAUSTED if too many are being admitted.
   */
  AgentSession hello(String agentId, Hello hello, ServerCallStreamObserver<ControllerMessage> out) {
    AgentSession session = new AgentSession(agentId, out, clock.instant());
    if (!admitting.tryAcquire()) {
      long retryMs = ThreadLocalRandom.current().nextLong(1_000, 5_000);
      Metadata trailers = new Metadata();
      trailers.put(Backoff.RETRY_AFTER_MS, Long.toString(retryMs));
      log.atDebug().addKeyValue(ServiceLogging.AGENT, agentId)
          .log("agent {}: too many hellos in flight, told to retry in {} ms", agentId, retryMs);
      session.closedByPeer();
      out.onError(Status.RESOURCE_EXHAUSTED.withDescription("controller is admitting other agents; retry later")
          .asRuntimeException(trailers));
      return session;
    }
    post(() -> {
      try {
        admit(session, hello);
      } catch (RuntimeException e) {
        log.atError().addKeyValue(ServiceLogging.AGENT, agentId)
            .log("agent {}: cannot admit: {}", agentId, e.getMessage(), e);
        session.close(Status.UNAVAILABLE.withDescription("controller cannot record this agent now; retrying helps"));
      } finally {
        admitting.release();
      }
    });
    return session;
  }

  private void admit(AgentSession session, Hello hello) {
    if (session.isClosed()) {
      return; // the agent left before we got to it
    }
    Optional<StoredAgent> known = store.agent(session.agentId);
    if (known.isEmpty()) {
      session.close(Status.PERMISSION_DENIED.withDescription("agent " + session.agentId
          + " is not enrolled with this controller; re-enroll it with a new token"));
      return;
    }
    Instant now = clock.instant();
    store.connected(session.agentId, hello.getAgentVersion(), hello.getFacts(), now, node);
    warnOnDuplicateSerial(session.agentId, hello.getFacts());
    AgentSession previous = sessions.put(session.agentId, session);
    if (previous != null) {
      previous.close(Status.ALREADY_EXISTS.withDescription("replaced by a newer connection from the same agent"));
    }
    session.send(ControllerMessage.newBuilder().setWelcome(Welcome.newBuilder()
        .setHeartbeatIntervalMillis(settings.heartbeatInterval().toMillis())
        .setControllerVersion(controllerVersion)
        .setTrustBundlePem(trustBundlePem)
        .addAllKeyStatements(keyStatements)
        .addAllControllerAddresses(controllerAddresses)
        .putAllLabels(known.get().labels())).build());
    log.atInfo().addKeyValue(ServiceLogging.AGENT, session.agentId)
        .log("agent {} connected (version {}, host {})", session.agentId, hello.getAgentVersion(),
        hello.getFacts().getHostname());
    listener.connected(session.agentId);
  }

  private void warnOnDuplicateSerial(String agentId, Facts facts) {
    String serial = facts.getSystem().getSerial();
    if (!isUsefulSerial(serial)) {
      return;
    }
    List<String> others = store.agentsWithSystemSerial(serial).stream().filter(id -> !id.equals(agentId)).toList();
    if (!others.isEmpty()) {
      log.atWarn().addKeyValue(ServiceLogging.AGENT, agentId)
          .log("agent {} reports system serial {} also reported by {}: cloned image or misreporting firmware?",
          agentId, serial, others);
    }
  }

  /** Placeholder serials that firmware and hypervisors report: never a reason to warn. */
  private static final java.util.Set<String> PLACEHOLDER_SERIALS = java.util.Set.of(
      "", "unknown", "none", "0", "default string", "to be filled by o.e.m.", "not specified", "system serial number");

  /** Used by the admin API to flag duplicate serials. */
  public static boolean isUsefulSerial(String serial) {
    return !PLACEHOLDER_SERIALS.contains(serial.trim().toLowerCase(java.util.Locale.ROOT));
  }

  /** Used by {@link AgentLinkService} on every message from the agent. */
  void heard(AgentSession session) {
    session.heard(clock.instant());
  }

  void factsChanged(AgentSession session, Facts facts) {
    session.heard(clock.instant());
    post(() -> {
      store.factsChanged(session.agentId, facts);
      warnOnDuplicateSerial(session.agentId, facts);
    });
  }

  /** Used by {@link AgentLinkService} for each lifecycle report; recorded in order on the events thread. */
  void jobReported(AgentSession session, JobUpdate job) {
    session.heard(clock.instant());
    post(() -> {
      HostJob j = new HostJob(session.agentId, job.getDeploymentId(), job.getApp(), job.getVersion(),
          job.getPhase(), job.getFailureKind(), job.getFailure(), job.getCurrentVersion(), job.getPreviousVersion(),
          job.getKeptVersionsList(), Instant.ofEpochMilli(job.getAtEpochMillis()), job.getCurrentConfigDigest());
      store.hostJob(j);
      listener.job(j);
    });
  }

  /** Used by {@link AgentLinkService} for each report of a flag change. */
  void flagsReported(AgentSession session, FlagsUpdate update) {
    session.heard(clock.instant());
    post(() -> {
      FlagsReport r = new FlagsReport(session.agentId, update.getDeploymentId(), update.getApp(), update.getPhase(),
          update.getFailureKind(), update.getFailure(), update.getFlagsMap(), Instant.ofEpochMilli(update.getAtEpochMillis()));
      store.hostFlags(r);
      listener.flags(r);
    });
  }

  /** Used by {@link AgentLinkService} for each download progress report: passed on, not stored. */
  void progressReported(AgentSession session, DownloadProgress progress) {
    session.heard(clock.instant());
    post(() -> listener.downloaded(session.agentId, progress.getDeploymentId(), progress.getBytes(), progress.getSize()));
  }

  /** Used by {@link AgentLinkService} for each periodic health report. */
  void healthReported(AgentSession session, HealthReport report) {
    session.heard(clock.instant());
    post(() -> {
      String line = HealthLine.of(report);
      store.appHealth(session.agentId, report.getApp(), report.getHealthy(), line,
          Instant.ofEpochMilli(report.getAtEpochMillis()));
      listener.health(session.agentId, report.getApp(), report.getHealthy(), line);
    });
  }

  /**
   * The key statements hosts are given from now on ({@code statements}: all of them, in order);
   * every connected host gets them at once, every other at its next welcome.
   */
  public void keyStatements(List<String> statements) {
    keyStatements = List.copyOf(statements);
    post(() -> {
      Command c = Command.newBuilder().setId(java.util.UUID.randomUUID().toString())
          .setTrustKeys(io.rackroll.proto.v1.TrustKeys.newBuilder().addAllStatements(keyStatements)).build();
      sessions.keySet().forEach(agentId -> send(agentId, c));
    });
  }

  /**
   * The controller nodes' addresses agents are given from their next welcome on, this node's
   * first (several nodes on one database). When the set of nodes changed, every connected agent is
   * told at once: one that connected before a node joined would otherwise not know of it, and be
   * left with no live node when its own dies.
   */
  public void controllerAddresses(List<String> addresses) {
    List<String> was = controllerAddresses;
    controllerAddresses = List.copyOf(addresses);
    if (!new java.util.HashSet<>(was).equals(new java.util.HashSet<>(addresses))) {
      ControllerMessage m = ControllerMessage.newBuilder()
          .setNodes(io.rackroll.proto.v1.ControllerNodes.newBuilder().addAllAddresses(addresses)).build();
      post(() -> sessions.values().forEach(s -> s.send(m)));
    }
  }

  /** The controller nodes' addresses agents are given now; empty for a single controller. */
  public List<String> controllerAddresses() {
    return controllerAddresses;
  }

  /** Sends a command down the agent's stream; false when the agent is not connected. */
  public boolean send(String agentId, Command command) {
    AgentSession s = sessions.get(agentId);
    return s != null && s.send(ControllerMessage.newBuilder().setCommand(command).build());
  }

  /** Used by {@link AgentLinkService} when the stream ends from the agent's side or breaks. */
  void closed(AgentSession session) {
    session.closedByPeer();
    post(() -> {
      if (sessions.remove(session.agentId, session)) {
        store.lastSeen(Map.of(session.agentId, session.lastHeard()));
        store.stateChanged(session.agentId, ConnectionState.DISCONNECTED, clock.instant(), node);
        log.atInfo().addKeyValue(ServiceLogging.AGENT, session.agentId).log("agent {} disconnected", session.agentId);
        listener.disconnected(session.agentId);
      }
    });
  }

  /**
   * Runs {@code event} on the events thread, after those posted before it. Once the registry is
   * closed, events are dropped: the controller is stopping, and {@link #restore()} at the next start
   * marks every agent disconnected anyway.
   */
  private void post(Runnable event) {
    if (!bursts.post(event)) {
      log.debug("controller stopping; event dropped");
    }
  }

  /** Runs on the events thread every heartbeat interval. */
  private void sweep() {
    try {
      Instant now = clock.instant();
      Map<String, Instant> seen = new HashMap<>();
      for (AgentSession s : sessions.values()) {
        Instant last = s.lastHeard();
        seen.put(s.agentId, last);
        boolean silent = Duration.between(last, now).compareTo(settings.staleAfter()) > 0;
        if (silent != s.stale) {
          s.stale = silent;
          store.stateChanged(s.agentId, silent ? ConnectionState.STALE : ConnectionState.CONNECTED, now, node);
          if (silent) {
            log.atWarn().addKeyValue(ServiceLogging.AGENT, s.agentId)
                .log("agent {} is stale: nothing heard for {} s", s.agentId, Duration.between(last, now).toSeconds());
            listener.silent(s.agentId);
          } else {
            log.atInfo().addKeyValue(ServiceLogging.AGENT, s.agentId).log("agent {} is heard from again", s.agentId);
            listener.heardAgain(s.agentId);
          }
        }
      }
      // Connected agents' last-seen times live in memory (the admin view overlays them); the store
      // gets them on disconnect and, for a controller that dies without saying goodbye, every minute.
      if (Duration.between(lastFlush, now).compareTo(LAST_SEEN_FLUSH) >= 0) {
        store.lastSeen(seen);
        lastFlush = now;
      }
    } catch (RuntimeException e) {
      log.error("fleet sweep failed: {}", e.getMessage(), e);
    }
  }

  /**
   * Ends the agent's stream at once, if it has one (its certificates are already refused for any
   * new call). Returns whether it was connected.
   */
  public boolean revoked(String agentId, String message) {
    AgentSession s = sessions.get(agentId);
    if (s == null) {
      return false;
    }
    s.close(Status.PERMISSION_DENIED.withDescription(message));
    closed(s);
    return true;
  }

  /** Agents with an open stream (stale ones included). */
  public int connectedCount() {
    return sessions.size();
  }

  /** The longest any connected agent has gone unheard, now; zero with none connected. */
  public Duration maxSilence() {
    Instant now = clock.instant();
    Duration max = Duration.ZERO;
    for (AgentSession s : sessions.values()) {
      Duration d = Duration.between(s.lastHeard(), now);
      if (d.compareTo(max) > 0) {
        max = d;
      }
    }
    return max;
  }

  /** The live view of one agent, if it has a stream open. */
  public Optional<Live> live(String agentId) {
    AgentSession s = sessions.get(agentId);
    return s == null ? Optional.empty()
        : Optional.of(new Live(s.stale ? ConnectionState.STALE : ConnectionState.CONNECTED, s.lastHeard()));
  }

  /** What the registry knows now, fresher than the store. */
  public record Live(ConnectionState state, Instant lastHeard) {}

  /** Sends a ping down the agent's stream; completes with the round-trip time. */
  public CompletableFuture<Duration> ping(String agentId, Duration timeout) {
    AgentSession s = sessions.get(agentId);
    if (s == null) {
      return CompletableFuture.failedFuture(new AgentUnreachableException("agent " + agentId + " is not connected"));
    }
    String id = UUID.randomUUID().toString();
    long started = System.nanoTime();
    var result = s.expect(id);
    boolean sent = s.send(ControllerMessage.newBuilder().setCommand(Command.newBuilder().setId(id)
        .setPing(Ping.newBuilder().setSentEpochMillis(clock.millis()))).build());
    if (!sent) {
      return CompletableFuture.failedFuture(new AgentUnreachableException("agent " + agentId + " is not connected"));
    }
    return result.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .thenApply(r -> Duration.ofNanos(System.nanoTime() - started));
  }

  /** When a stopping controller tells its agents to come back: after a restart's worth of time... */
  private static final Duration RESTART = Duration.ofSeconds(2);
  /** ...spread so that a restarted controller takes this many back each second at most. */
  static final int RECONNECTS_PER_SECOND = 1_000;

  /**
   * How long agent {@code agentId} of {@code fleet} connected agents is told to wait before it
   * reconnects to a controller that is stopping: a restart's time, then a place in a window as long
   * as the fleet takes to reconnect at {@link #RECONNECTS_PER_SECOND}, by its id, so the agents come
   * back evenly spread instead of all at once and then in waves of backoff.
   */
  static Duration comeBackIn(String agentId, int fleet) {
    long window = Math.max(1_000, fleet * 1_000L / RECONNECTS_PER_SECOND);
    int mixed = agentId.hashCode() * 0x9E3779B9; // spread ids that differ in one character
    return RESTART.plusMillis(Math.floorMod(mixed, window));
  }

  /**
   * Ends every agent's stream, telling each when to come back (spread, see {@link #comeBackIn}):
   * the controller stops, or this node was given up for dead by the others and its agents are
   * better off reconnecting to whichever node they reach.
   */
  public void sendAway(String why) {
    int fleet = sessions.size();
    for (AgentSession s : sessions.values()) {
      Duration wait = comeBackIn(s.agentId, fleet);
      Metadata trailers = new Metadata();
      trailers.put(Backoff.RETRY_AFTER_MS, Long.toString(wait.toMillis()));
      s.close(Status.UNAVAILABLE.withDescription(why + "; reconnect in " + wait.toMillis() + " ms"), trailers);
      closed(s);
    }
  }

  @Override
  public void close() {
    events.shutdown();
    sendAway("controller is stopping");
    try {
      if (!events.awaitTermination(5, TimeUnit.SECONDS)) {
        events.shutdownNow();
      }
    } catch (InterruptedException e) {
      events.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
