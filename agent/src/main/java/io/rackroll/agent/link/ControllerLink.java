package io.rackroll.agent.link;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rackroll.agent.identity.AgentIdentity.Credentials;
import io.rackroll.agent.inventory.Inventory;
import io.rackroll.proto.v1.AgentMessage;
import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.CommandResult;
import io.rackroll.proto.v1.ControllerMessage;
import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.Heartbeat;
import io.rackroll.proto.v1.Hello;
import io.rackroll.proto.v1.Pong;
import io.rackroll.trust.LiveCredentials;
import io.rackroll.trust.MutualTls;
import io.rackroll.trust.PeerIdentity;
import io.rackroll.wire.AgentStream;
import io.rackroll.wire.Backoff;
import io.rackroll.wire.ControllerChannels;
import io.rackroll.wire.HostPort;
import io.rackroll.wire.Statuses;
import io.rackroll.wire.Threads;
import java.time.Clock;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This agent's one stream to the controller, kept open forever.
 *
 * <p>All of the link's state lives on one thread, {@code controller-link}: gRPC callbacks only
 * post to it. It dials out, says hello with the facts, heartbeats at the interval the controller
 * asks for, answers commands, re-reads the facts periodically and sends them when they changed,
 * and after any break reconnects with exponential backoff and full jitter.
 */
public final class ControllerLink implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControllerLink.class);

  private final ControllerChannels controllers;
  private final Credentials credentials;
  private final Supplier<Facts> inventory;
  private final Duration factsInterval;
  private final String agentVersion;
  private final Clock clock;
  private final ScheduledExecutorService link;
  private final Backoff backoff;
  private final Commands commands;
  private final Trust trust;

  // Everything below is confined to the link thread.
  private long generation;
  private ClientCallStreamObserver<AgentMessage> requests;
  private ScheduledFuture<?> heartbeats;
  private long heartbeatSequence;
  private Facts lastFacts;
  /** The node this stream was opened to. */
  private HostPort controller;
  /** Written on the link thread only; volatile so that {@link #connected()} may read it from any thread. */
  private volatile boolean welcomed;
  private boolean closed;

  /** What the link hands over to the rest of the agent. */
  public interface Commands {
    /** Runs or queues a command other than ping; must return fast (called on the link thread). */
    CommandResult.Builder execute(Command command);

    /** Messages describing this host's true state, sent after every (re)connect. */
    List<AgentMessage> stateReport();

    /**
     * Applies the controller's key statements (at each welcome, and when one is pushed); the
     * host's facts are read and sent again after. Must return fast (called on the link thread).
     */
    default void keyStatements(List<String> statements) {}
  }

  /** The agent's certificate, as the link needs it. */
  public interface Trust {
    /** The certificate presented at the next handshake. */
    X509Certificate certificate();

    /** The controller's trust bundle, from each welcome; must return fast. */
    void bundle(String pem);

    /** The controller refuses this agent for good (revoked, or its certificate expired); the link has stopped. */
    void refused(String why);
  }

  /** Commands for an agent that runs no lifecycle: everything but ping is refused. */
  public static final Commands PING_ONLY = new Commands() {
    @Override
    public CommandResult.Builder execute(Command command) {
      return CommandResult.newBuilder().setOk(false).setMessage("command " + command.getKindCase() + " is not supported here");
    }

    @Override
    public List<AgentMessage> stateReport() {
      return List.of();
    }
  };

  /** The agent's channel to its controller: mTLS with this agent's certificate, keepalive for NAT. */
  public static ManagedChannel channel(HostPort controller, LiveCredentials credentials) {
    return NettyChannelBuilder.forAddress(controller.host(), controller.port())
        .sslContext(MutualTls.client(credentials))
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(20, TimeUnit.SECONDS)
        .keepAliveWithoutCalls(true)
        .build();
  }

  /** @param controllers the controller nodes, and the one to talk to now */
  public ControllerLink(ControllerChannels controllers, Credentials credentials, Supplier<Facts> inventory,
      Commands commands, Trust trust, Duration factsInterval, Duration backoffBase, Duration backoffCap,
      String agentVersion, Clock clock) {
    this.trust = trust;
    this.controllers = controllers;
    this.controller = controllers.current();
    this.commands = commands;
    this.credentials = credentials;
    this.inventory = inventory;
    this.factsInterval = factsInterval;
    this.agentVersion = agentVersion;
    this.clock = clock;
    this.backoff = new Backoff(backoffBase, backoffCap);
    this.link = Threads.serial("controller-link");
  }

  public void start() {
    link.execute(this::connect);
    link.scheduleWithFixedDelay(this::checkFacts, factsInterval.toMillis(), factsInterval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void connect() {
    if (closed) {
      return;
    }
    Instant expiry = trust.certificate().getNotAfter().toInstant();
    if (!clock.instant().isBefore(expiry)) {
      // The controller would refuse the handshake; say why here, where the operator looks.
      stop("this agent's certificate expired at " + expiry + " (it was offline past its renewal);"
          + " enroll the host again with a new token: rackroll-agent enroll --controller " + controller + " --token TOKEN");
      return;
    }
    long gen = ++generation;
    welcomed = false;
    lastFacts = readFacts();
    controller = controllers.current();
    ManagedChannel channel = controllers.currentChannel();
    // This link's backoff decides when to try again, not the channel's own: gRPC backs a channel
    // off by itself after failed connections (up to two minutes) and fails calls at once meanwhile,
    // which kept hosts away from a controller that was back long after their own delay was over.
    channel.resetConnectBackoff();
    requests = AgentStream.open(channel, link, message -> received(gen, message),
        (status, trailers) -> ended(gen, status, trailers));
    requests.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder()
        .setAgentId(credentials.agentId())
        .setAgentVersion(agentVersion)
        .putAllLabels(credentials.labels())
        .setFacts(lastFacts)).build());
  }

  private void received(long gen, ControllerMessage message) {
    if (gen != generation || closed) {
      return;
    }
    switch (message.getBodyCase()) {
      case WELCOME -> {
        welcomed = true;
        backoff.reset();
        long every = Math.max(100, message.getWelcome().getHeartbeatIntervalMillis());
        cancelHeartbeats();
        heartbeats = link.scheduleAtFixedRate(this::heartbeat, every, every, TimeUnit.MILLISECONDS);
        log.info("connected to controller {} (version {}) as agent {}", controller,
            message.getWelcome().getControllerVersion(), credentials.agentId());
        trust.bundle(message.getWelcome().getTrustBundlePem());
        nodes(message.getWelcome().getControllerAddressesList());
        keyStatements(message.getWelcome().getKeyStatementsList());
        try {
          commands.stateReport().forEach(this::send);
        } catch (RuntimeException e) {
          log.warn("cannot report this host's state: {}", e.toString());
        }
      }
      case COMMAND -> execute(message.getCommand());
      case NODES -> nodes(message.getNodes().getAddressesList());
      default -> log.debug("empty message from controller");
    }
  }

  /** The controller nodes' addresses as a node gave them: kept (and saved) for the next move. */
  private void nodes(List<String> addresses) {
    try {
      controllers.update(addresses);
    } catch (RuntimeException e) {
      log.warn("cannot record the controller nodes' addresses: {}", e.toString());
    }
  }

  private void execute(Command command) {
    CommandResult.Builder result = CommandResult.newBuilder().setCommandId(command.getId());
    switch (command.getKindCase()) {
      case PING -> result.setOk(true).setPong(Pong.newBuilder()
          .setPingSentEpochMillis(command.getPing().getSentEpochMillis())
          .setAgentEpochMillis(clock.millis()));
      case TRUST_KEYS -> {
        keyStatements(command.getTrustKeys().getStatementsList());
        result.setOk(true);
      }
      case KIND_NOT_SET -> result.setOk(false).setMessage("agent " + agentVersion + " does not know this command;"
          + " upgrade the agent");
      default -> result.mergeFrom(commands.execute(command).setCommandId(command.getId()).build());
    }
    send(AgentMessage.newBuilder().setResult(result).build());
  }

  /** Applies {@code statements}, then reports the facts (with the release trust) if they changed. */
  private void keyStatements(List<String> statements) {
    if (statements.isEmpty()) {
      return;
    }
    try {
      commands.keyStatements(statements);
    } catch (RuntimeException e) {
      log.warn("cannot apply the controller's key statements: {}", e.toString());
    }
    checkFacts();
  }

  private void heartbeat() {
    send(AgentMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setSequence(++heartbeatSequence)).build());
  }

  private void checkFacts() {
    if (!welcomed || closed) {
      return;
    }
    Facts now = readFacts();
    if (Inventory.changed(lastFacts, now)) {
      log.info("host facts changed; reporting them");
      lastFacts = now;
      send(AgentMessage.newBuilder().setFacts(now).build());
    }
  }

  /** Whether the stream is open and welcomed now; any thread. */
  public boolean connected() {
    return welcomed;
  }

  /** Sends {@code message} if connected; any thread. Lost while disconnected: the state report covers it. */
  public void report(AgentMessage message) {
    Threads.post(link, () -> send(message));
  }

  private void send(AgentMessage message) {
    if (requests != null && welcomed) {
      requests.onNext(message);
    }
  }

  private void ended(long gen, Status status, Metadata trailers) {
    if (gen != generation || closed) {
      return;
    }
    cancelHeartbeats();
    requests = null;
    boolean wasWelcomed = welcomed;
    welcomed = false;
    if (status.getCode() == Status.Code.PERMISSION_DENIED && status.getDescription() != null
        && status.getDescription().startsWith(PeerIdentity.REVOKED)) {
      stop(status.getDescription());
      return;
    }
    Duration delay = backoff.next(trailers);
    if (ControllerChannels.nodeAway(wasWelcomed, status)) {
      // The node did not answer, or went away (stopping, gone): the next attempt tries another
      // one, if there is another (the jittered delay keeps a dead node's agents from arriving at once).
      HostPort next = controllers.moveOn();
      if (!next.equals(controller)) {
        log.warn("stream to controller {} ended: {}; trying controller {} in {} ms", controller,
            Statuses.describe(status), next, delay.toMillis());
        link.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
        return;
      }
    }
    log.warn("stream to controller {} ended: {}; reconnecting in {} ms", controller, Statuses.describe(status), delay.toMillis());
    link.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** On the link thread: no more reconnects; the agent is told why. */
  private void stop(String why) {
    closed = true;
    cancelHeartbeats();
    trust.refused(why);
  }

  private Facts readFacts() {
    try {
      return inventory.get();
    } catch (RuntimeException e) {
      log.warn("cannot read host facts: {}", e.toString());
      return lastFacts != null ? lastFacts : Facts.getDefaultInstance();
    }
  }

  private void cancelHeartbeats() {
    if (heartbeats != null) {
      heartbeats.cancel(false);
      heartbeats = null;
    }
  }

  @Override
  public void close() {
    link.execute(() -> {
      closed = true;
      cancelHeartbeats();
      if (requests != null) {
        requests.cancel("agent stopping", null); // the controller marks us disconnected at once
      }
    });
    link.shutdown();
    try {
      link.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
