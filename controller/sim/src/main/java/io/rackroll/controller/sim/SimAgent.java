package io.rackroll.controller.sim;

import static io.rackroll.proto.v1.LifecyclePhase.ACTIVATING;
import static io.rackroll.proto.v1.LifecyclePhase.ACTIVE;
import static io.rackroll.proto.v1.LifecyclePhase.CHECKING_HEALTH;
import static io.rackroll.proto.v1.LifecyclePhase.CHECKING_HOST;
import static io.rackroll.proto.v1.LifecyclePhase.DOWNLOADING;
import static io.rackroll.proto.v1.LifecyclePhase.FAILED;
import static io.rackroll.proto.v1.LifecyclePhase.INSTALLING;
import static io.rackroll.proto.v1.LifecyclePhase.ROLLED_BACK;
import static io.rackroll.proto.v1.LifecyclePhase.ROLLING_BACK;
import static io.rackroll.proto.v1.LifecyclePhase.VERIFYING;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.ClientCallStreamObserver;
import io.rackroll.proto.v1.AgentMessage;
import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.CommandResult;
import io.rackroll.proto.v1.ControllerMessage;
import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.Heartbeat;
import io.rackroll.proto.v1.Hello;
import io.rackroll.proto.v1.JobUpdate;
import io.rackroll.proto.v1.LifecyclePhase;
import io.rackroll.proto.v1.Pong;
import io.rackroll.wire.AgentStream;
import io.rackroll.wire.ControllerChannels;
import io.rackroll.wire.Backoff;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One simulated host: the agent's side of the real protocol (hello with facts, heartbeats at the
 * controller's interval, pongs, a state report after each reconnect, backoff honouring the
 * controller's retry-after hint) over its own mTLS channel, with a simulated installer in place of
 * the lifecycle. The installer walks the real phases with configurable step times; a deploy fails
 * its health check with the configured probability and then rolls back as a real agent does.
 *
 * <p>Holds no thread: every method runs on the simulator's one scheduler thread, which owns all
 * of this state; gRPC callbacks only post to it.
 */
final class SimAgent {
  private static final List<LifecyclePhase> DEPLOY = List.of(DOWNLOADING, VERIFYING, CHECKING_HOST, INSTALLING,
      ACTIVATING, CHECKING_HEALTH);
  private static final int KEEP = 3;
  static final String FAILURE = "simulated health check failure (--failure-rate)";

  final String id;
  final Facts facts;
  final Map<String, String> labels;
  /** The controller nodes, and the one this host talks to now (as the agent: it moves when its node goes away). */
  private final ControllerChannels channels;
  private final Simulator.Shared shared;
  /** As the packaged agent (reconnectBackoffBase, reconnectBackoffCap). */
  private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(15));

  /** Stream state; a new generation per connection attempt so late callbacks of an old one are ignored. */
  private long generation;
  private ClientCallStreamObserver<AgentMessage> requests;
  private boolean welcomed;
  private ScheduledFuture<?> heartbeats;
  private long heartbeatSequence;
  private boolean closed;
  /** Told once, when the first connection attempt is welcomed or fails; lets the simulator pace a fleet's start. */
  private Runnable firstAttempt = () -> { };

  /** The installer: one job at a time, in order, as on a real host. */
  private final Map<String, App> apps = new HashMap<>();
  private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
  private boolean busy;

  private static final class App {
    String current = "";
    String previous = "";
    final List<String> kept = new ArrayList<>();
    /** The last report, sent again after a reconnect and for a repeated command. */
    JobUpdate last;
  }

  SimAgent(String id, Facts facts, Map<String, String> labels, ControllerChannels channels, Simulator.Shared shared) {
    this.id = id;
    this.facts = facts;
    this.labels = Map.copyOf(labels);
    this.channels = channels;
    this.shared = shared;
  }

  boolean connected() {
    return welcomed;
  }

  /** Counts this host's apps by their last phase into {@code counts}. */
  void tally(Map<String, Integer> counts) {
    apps.values().forEach(a -> counts.merge(a.last == null ? "NONE" : a.last.getPhase(), 1, Integer::sum));
  }

  // ---- the link ----

  /** Connects for the first time; {@code settled} runs once that attempt is welcomed or has failed. */
  void start(Runnable settled) {
    firstAttempt = settled;
    connect();
  }

  private void settled() {
    Runnable r = firstAttempt;
    firstAttempt = () -> { };
    r.run();
  }

  void connect() {
    if (closed) {
      return;
    }
    long gen = ++generation;
    welcomed = false;
    ManagedChannel channel = channels.currentChannel();
    channel.resetConnectBackoff(); // as the agent: its own backoff decides, not the channel's
    requests = AgentStream.open(channel, shared.loop(), message -> received(gen, message),
        (status, trailers) -> ended(gen, status, trailers));
    requests.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(id).setAgentVersion("simulated")
        .putAllLabels(labels).setFacts(facts)).build());
  }

  private void received(long gen, ControllerMessage message) {
    if (gen != generation || closed) {
      return;
    }
    if (message.hasWelcome()) {
      welcomed = true;
      backoff.reset();
      channels.update(message.getWelcome().getControllerAddressesList());
      settled();
      long every = Math.max(100, message.getWelcome().getHeartbeatIntervalMillis());
      cancelHeartbeats();
      heartbeats = shared.loop().scheduleAtFixedRate(() -> send(AgentMessage.newBuilder()
          .setHeartbeat(Heartbeat.newBuilder().setSequence(++heartbeatSequence)).build()),
          shared.random().nextLong(every), every, TimeUnit.MILLISECONDS);
      apps.values().stream().filter(a -> a.last != null).forEach(a -> send(job(a.last)));
    } else if (message.hasCommand()) {
      execute(message.getCommand());
    } else if (message.hasNodes()) {
      channels.update(message.getNodes().getAddressesList());
    }
  }

  private void ended(long gen, io.grpc.Status status, Metadata trailers) {
    if (gen != generation || closed) {
      return;
    }
    cancelHeartbeats();
    requests = null;
    if (ControllerChannels.nodeAway(welcomed, status)) {
      channels.moveOn(); // another node next, if there is one
    }
    welcomed = false;
    settled();
    shared.loop().schedule(this::connect, backoff.next(trailers).toMillis(), TimeUnit.MILLISECONDS);
  }

  private void send(AgentMessage message) {
    if (requests != null && welcomed) {
      requests.onNext(message);
    }
  }

  private void cancelHeartbeats() {
    if (heartbeats != null) {
      heartbeats.cancel(false);
      heartbeats = null;
    }
  }

  void close() {
    closed = true;
    cancelHeartbeats();
    if (requests != null) {
      requests.onCompleted();
    }
    channels.close();
  }

  // ---- the simulated installer ----

  private void execute(Command command) {
    CommandResult.Builder result = CommandResult.newBuilder().setCommandId(command.getId()).setOk(true);
    switch (command.getKindCase()) {
      case PING -> result.setPong(Pong.newBuilder().setPingSentEpochMillis(command.getPing().getSentEpochMillis())
          .setAgentEpochMillis(shared.clock().millis()));
      case DEPLOY -> {
        var d = command.getDeploy();
        if (!repeated(d.getDeploymentId(), d.getApp(), d.getVersion())) {
          boolean fails = shared.random().nextDouble() < shared.settings().failureRate();
          enqueue(() -> deploy(d.getDeploymentId(), d.getApp(), d.getVersion(), fails));
        }
        result.setMessage("queued " + d.getApp() + "@" + d.getVersion());
      }
      case ROLLBACK -> {
        var r = command.getRollback();
        if (!repeated(r.getDeploymentId(), r.getApp(), null)) {
          enqueue(() -> rollback(r.getDeploymentId(), r.getApp(), r.getToVersion()));
        }
        result.setMessage("queued rollback of " + r.getApp());
      }
      default -> result.setOk(false).setMessage("the simulator does not know " + command.getKindCase());
    }
    send(AgentMessage.newBuilder().setResult(result).build());
  }

  /** A command for a job this host already ran (or runs): report it again instead, like a real agent. */
  private boolean repeated(String deploymentId, String app, String version) {
    JobUpdate last = apps.computeIfAbsent(app, a -> new App()).last;
    if (last == null || !last.getDeploymentId().equals(deploymentId)
        || (version != null && !last.getVersion().equals(version))) {
      return false;
    }
    send(job(last));
    return true;
  }

  private void enqueue(Runnable job) {
    queue.add(job);
    if (!busy) {
      busy = true;
      queue.poll().run();
    }
  }

  private void deploy(String deploymentId, String name, String version, boolean fails) {
    App app = apps.get(name);
    String before = app.current;
    List<LifecyclePhase> phases = new ArrayList<>(DEPLOY);
    phases.addAll(fails ? List.of(ROLLING_BACK, before.isEmpty() ? FAILED : ROLLED_BACK) : List.of(ACTIVE));
    walk(app, deploymentId, name, version, before, phases, 0);
  }

  private void rollback(String deploymentId, String name, String toVersion) {
    App app = apps.get(name);
    String target = toVersion.isEmpty() ? app.previous : toVersion;
    if (target.isEmpty() || !app.kept.contains(target)) {
      report(app, deploymentId, name, target, app.current, FAILED, "refused", target.isEmpty()
          ? name + " has no previous release on this host to roll back to"
          : name + "@" + target + " is not kept on this host (kept: " + String.join(", ", app.kept) + ")");
      done();
      return;
    }
    walk(app, deploymentId, name, target, app.current, target.equals(app.current) ? List.of(ACTIVE)
        : List.of(ACTIVATING, CHECKING_HEALTH, ACTIVE), 0);
  }

  /** Enters {@code phases[i]} (its effect on the host first, then the report) and schedules the next. */
  private void walk(App app, String deploymentId, String name, String version, String before,
      List<LifecyclePhase> phases, int i) {
    if (closed) {
      return;
    }
    LifecyclePhase phase = phases.get(i);
    String kind = "";
    String failure = "";
    switch (phase) {
      case ACTIVATING -> app.current = version;
      case ROLLING_BACK -> {
        kind = "health_failed";
        failure = FAILURE;
      }
      case ROLLED_BACK, FAILED -> {
        app.current = before;
        kind = "health_failed";
        failure = FAILURE + "; back on " + (before.isEmpty() ? "nothing" : before);
      }
      case ACTIVE -> {
        if (!before.equals(version)) {
          app.previous = before;
        }
        app.kept.remove(version);
        app.kept.add(version);
        while (app.kept.size() > KEEP) {
          app.kept.remove(0);
        }
      }
      default -> { }
    }
    report(app, deploymentId, name, version, before, phase, kind, failure);
    if (i + 1 == phases.size()) {
      done();
      return;
    }
    shared.loop().schedule(() -> walk(app, deploymentId, name, version, before, phases, i + 1),
        shared.stepMillis(), TimeUnit.MILLISECONDS);
  }

  private void report(App app, String deploymentId, String name, String version, String before,
      LifecyclePhase phase, String kind, String failure) {
    app.last = JobUpdate.newBuilder().setDeploymentId(deploymentId).setApp(name).setVersion(version).setPhase(phase.name())
        .setFailureKind(kind).setFailure(failure).setPreviousVersion(before).setCurrentVersion(app.current)
        .addAllKeptVersions(app.kept).setAtEpochMillis(shared.clock().millis()).build();
    send(job(app.last));
  }

  private static AgentMessage job(JobUpdate update) {
    return AgentMessage.newBuilder().setJob(update).build();
  }

  private void done() {
    Runnable next = queue.poll();
    if (next == null) {
      busy = false;
    } else {
      next.run();
    }
  }
}
