package io.rackroll.controller.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rackroll.controller.fleet.AgentRegistry;
import io.rackroll.controller.rollout.Rollouts;
import io.rackroll.controller.store.AuditEntry;
import io.rackroll.controller.store.ClusterStore;
import io.rackroll.controller.store.Commits;
import io.rackroll.controller.store.LeaseStore;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.store.StoreException;
import io.rackroll.proto.v1.Command;
import io.rackroll.wire.Threads;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This controller as one node of several on one PostgreSQL database: it says it is alive, takes
 * or renews the leaders' lease, and while it leads runs the rollout engine on every node's
 * agents; it sends the agents it holds the commands the leader wrote for them.
 *
 * <p>All of it runs on one thread, {@code cluster}, every {@link #BEAT} and whenever a node writes:
 * a second thread only waits for the database's notifications ({@code LISTEN}) and hands them over.
 * A lost notification costs at most one beat: every beat also reads what it may have missed.
 *
 * <p>Leading: the lease lasts {@link #LEASE} on the database's clock and is renewed every beat.
 * The node fences the store with the lease's epoch before its engine loads a single deployment, so
 * no write of the engine, and no command to an agent (a command is a fenced write), can land after
 * another node took over. A node that cannot renew stops leading before its lease could lapse.
 */
public final class ClusterNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);
  /** How long a lease lasts without renewal, and how long a node is alive without saying so. */
  public static final Duration LEASE = Duration.ofSeconds(10);
  /** How often a node says it is alive and renews (or tries to take) the lease. */
  public static final Duration BEAT = Duration.ofSeconds(2);
  /** Events the leader has read are kept this long, for whoever investigates. */
  private static final Duration KEEP_EVENTS = Duration.ofHours(1);
  private static final int BATCH = 500;
  /** How long the listener waits for a notification before it looks whether the node stops. */
  private static final Duration LISTEN_WAIT = Duration.ofMillis(500);

  /** The file in the data directory that names the process that ran as this node last. */
  static final String INSTANCE_FILE = "node.instance";
  /** The file in the data directory with every live node's address, this one first (for the CLI). */
  public static final String NODES_FILE = "controller.nodes";

  private final String name;
  /** This process, as opposed to another that runs (or ran) as the same node name. */
  private final String instance = newInstance();
  private final java.nio.file.Path instanceFile;
  private final java.nio.file.Path nodesFile;
  /** What {@link #nodesFile} holds (on {@link #work}). */
  private List<String> written = List.of();
  /** Called once, on {@link #work}, when another process took this node's name (see {@link #start}). */
  private volatile Runnable onNameTaken = () -> { };
  /** Where agents and admins reach this node: known once it listens. */
  private volatile String address = "";
  private final String version;
  private final Store store;
  private final ClusterStore cluster;
  private final LeaseStore lease;
  private final AgentRegistry registry;
  private final Rollouts rollouts;
  private final ClusterHosts hosts;
  private final Clock clock;
  private final ScheduledExecutorService work = Threads.serial("cluster");
  /**
   * Stops the engine when the lease has gone unrenewed too long, even while {@link #work} is stuck
   * waiting for a database that does not answer: the engine stops before the lease can lapse.
   */
  private final ScheduledExecutorService watchdog = Threads.serial("cluster-watchdog");
  private final Thread listening;
  private volatile boolean closed;
  /**
   * Whether this process runs as the node's name: not before {@link #start} claimed it, nor after
   * another process took it ({@link #nameTaken}). Only then may it act on the name's rows.
   */
  private volatile boolean claimed;
  /** Reads again what another node changed (its announcement's {@code what}); on {@link #work}. */
  private volatile java.util.function.Consumer<String> refresh = what -> { };
  /** Where the node that leads is reached, when another one does (as of the last beat). */
  private volatile Optional<String> leaderAddress = Optional.empty();

  // Confined to the work thread.
  /** The lease's epoch while this node leads; 0 while it follows. */
  private volatile long epoch;
  /** When the lease was last taken or renewed (System.nanoTime: no clock change moves it); read by {@link #watchdog} too. */
  private volatile long renewed = System.nanoTime();
  /** The last event the leader handed its engine. */
  private long cursor;
  private Instant pruned = Instant.EPOCH;
  private String followingBecause = "";

  /**
   * @param hosts the view {@code rollouts} was built on (see {@link #hosts(ClusterStore)})
   */
  public ClusterNode(String name, java.nio.file.Path dataDir, String version, Store store, AgentRegistry registry,
      Rollouts rollouts, HostsView hosts, Clock clock) {
    this.name = name;
    this.instanceFile = dataDir.resolve(INSTANCE_FILE);
    this.nodesFile = dataDir.resolve(NODES_FILE);
    this.version = version;
    this.store = store;
    this.cluster = store.cluster().orElseThrow();
    this.lease = store.lease().orElseThrow();
    this.registry = registry;
    this.rollouts = rollouts;
    this.hosts = hosts.hosts;
    this.clock = clock;
    this.listening = new Thread(this::listen, "cluster-listen");
    listening.setDaemon(true);
  }

  /** The hosts of every node, for the engine of a node (build the engine on {@link HostsView#hosts()}). */
  public static HostsView hosts(ClusterStore cluster) {
    return new HostsView(new ClusterHosts(cluster));
  }

  /** Every node's agents as the leader's engine sees them; opaque outside this package. */
  public static final class HostsView {
    private final ClusterHosts hosts;

    private HostsView(ClusterHosts hosts) {
      this.hosts = hosts;
    }

    public io.rackroll.controller.rollout.HostCommands.Hosts hosts() {
      return hosts;
    }
  }

  /**
   * The commits of this node's registry: each burst first takes the events' lock, before any row
   * (see {@link ClusterStore#orderEvents}).
   */
  public static Commits eventsFirst(Store store) {
    ClusterStore cluster = store.cluster().orElseThrow();
    Commits commits = store.commits();
    return new Commits() {
      @Override
      public void grouped(Runnable work) {
        commits.grouped(() -> {
          cluster.orderEvents();
          work.run();
        });
      }

      @Override
      public void afterCommit(Runnable action) {
        commits.afterCommit(action);
      }
    };
  }

  /**
   * Before any agent can connect: the agents a previous run of this node held are marked
   * disconnected (telling the leader), and its registry's events go to the database from now on.
   * The engine follows until this node leads.
   */
  public void start() {
    claimName();
    claimed = true;
    disconnectAgentsOf(name, "this node restarted");
    registry.listen(NodeEvents.writer(cluster, name));
    rollouts.onFenced(() -> Threads.post(work, this::beat));
    rollouts.startFollowing("controller node " + name + " does not lead yet; retry in a few seconds");
  }

  /**
   * Refused: another process runs as this node's name (another machine configured with the same
   * name, or a copy of this data directory). Nothing was changed; an operator has to rename one.
   */
  public static final class NameInUse extends IllegalStateException {
    public NameInUse(String message) {
      super(message);
    }
  }

  /**
   * Makes sure no other live process runs as this node's name before this one acts as it. A name
   * another process said it held within a lease is watched for one lease: if that process says it
   * is alive again, this one refuses ({@link NameInUse}); if not, it was dead, and the name is this
   * process's. The wait is skipped for a restart after a crash: the holder is the run this data
   * directory recorded last, on this machine since its last boot, and that process is gone (a copy
   * of the data directory, here or on another machine, is watched like any other process).
   */
  private void claimName() {
    Optional<ClusterStore.NameHolder> held = cluster.holderOf(name);
    if (held.isPresent() && held.get().silent().compareTo(LEASE) < 0 && !lastRunHereAndGone(held.get().instance())) {
      ClusterStore.NameHolder other = held.get();
      log.info("controller node name {} was used {} ms ago by another process (at {}); watching it for up to {} s to"
          + " see whether it is alive", name, other.silent().toMillis(), other.address(), LEASE.toSeconds());
      long until = System.nanoTime() + LEASE.minus(other.silent()).plus(BEAT).toNanos();
      Duration silent = other.silent();
      while (System.nanoTime() < until) {
        try {
          Thread.sleep(BEAT.toMillis() / 4); // it says it is alive every beat
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while checking whether controller node name " + name
              + " is in use", e);
        }
        Optional<ClusterStore.NameHolder> now = cluster.holderOf(name);
        if (now.isEmpty()) {
          break; // it stopped cleanly
        }
        if (!now.get().instance().equals(other.instance()) || now.get().silent().compareTo(silent) < 0) {
          throw new NameInUse("controller node name " + name + " is in use by a running node at "
              + now.get().address() + "; give this one a name of its own ('node:' in controller.yaml) and start it"
              + " again: two nodes with one name would take each other's agents' commands");
        }
        if (now.get().silent().compareTo(LEASE) >= 0) {
          break; // dead: the leader gives it up, or this node takes its name first
        }
        silent = now.get().silent();
      }
    }
    try {
      io.rackroll.trust.SecureFiles.writeString(instanceFile, instance + " " + bootId() + " "
          + ProcessHandle.current().pid() + "\n", io.rackroll.trust.SecureFiles.OWNER_ONLY);
    } catch (java.io.IOException e) {
      // Only costs the next restart a wait of one lease.
      log.warn("cannot write {}: {}", instanceFile, e.getMessage());
    }
  }

  /**
   * Whether {@code holder} is the process this data directory recorded last ({@link #INSTANCE_FILE}:
   * its instance, the boot it ran in, its pid), it ran on this machine since its last boot, and it
   * is gone (or is this very process, which stopped its earlier server).
   */
  private boolean lastRunHereAndGone(String holder) {
    String[] last;
    try {
      last = java.nio.file.Files.exists(instanceFile)
          ? java.nio.file.Files.readString(instanceFile).strip().split(" ") : new String[0];
    } catch (java.io.IOException e) {
      log.warn("cannot read {}: {}", instanceFile, e.getMessage());
      return false;
    }
    if (last.length != 3 || !last[0].equals(holder) || last[1].isEmpty() || !last[1].equals(bootId())) {
      return false;
    }
    long pid;
    try {
      pid = Long.parseLong(last[2]);
    } catch (NumberFormatException e) {
      return false;
    }
    return pid == ProcessHandle.current().pid() || ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
  }

  private static String newInstance() {
    byte[] id = new byte[8];
    new java.security.SecureRandom().nextBytes(id);
    return java.util.HexFormat.of().formatHex(id);
  }

  /** This boot of this machine (Linux); empty where there is none to read. */
  private static String bootId() {
    try {
      // Line by line: Files.readString reads some /proc/sys files short (JDK 17).
      try (var in = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of("/proc/sys/kernel/random/boot_id"))) {
        String line = in.readLine();
        return line == null ? "" : line.strip();
      }
    } catch (java.io.IOException | RuntimeException e) {
      return "";
    }
  }

  /** {@code action} runs once if another process takes this node's name while it runs. */
  public void onNameTaken(Runnable action) {
    this.onNameTaken = action;
  }

  /** Once it listens: the node is recorded alive at {@code address}, and the beat starts. */
  public void serving(String address) {
    this.address = address;
    cluster.nodeUp(name, instance, address, version);
    log.info("controller node {} at {} joined; which node leads is decided by the lease in the database", name,
        address);
    work.scheduleWithFixedDelay(this::beat, 0, BEAT.toMillis(), TimeUnit.MILLISECONDS);
    watchdog.scheduleWithFixedDelay(this::watch, BEAT.toMillis(), 250, TimeUnit.MILLISECONDS);
    listening.start();
  }

  /** Runs on {@link #work} every beat: alive, the lease, the addresses, and what a lost notification hid. */
  private void beat() {
    if (closed || !claimed) {
      return;
    }
    try {
      if (!cluster.nodeSeen(name, instance)) {
        Optional<ClusterStore.NameHolder> holder = cluster.holderOf(name);
        if (holder.isPresent() && !holder.get().instance().equals(instance)) {
          nameTaken(holder.get());
          return;
        }
        // The leader gave this node up for dead (it was paused or cut off): its agents are recorded
        // as disconnected, so they had better find a node again, this one included.
        log.warn("controller node {} was taken for dead by the others; sending its agents away to reconnect", name);
        registry.sendAway("controller node " + name + " was taken for dead");
        cluster.nodeUp(name, instance, address, version);
      }
    } catch (StoreException e) {
      log.warn("controller node {} cannot say it is alive: {}", name, e.getMessage());
    }
    holdLease();
    try {
      addresses();
      if (epoch != 0) {
        buryLapsedNodes();
        readEvents();
        if (Duration.between(pruned, clock.instant()).compareTo(Duration.ofMinutes(5)) > 0) {
          cluster.pruneEvents(KEEP_EVENTS);
          pruned = clock.instant();
        }
      } else {
        followingBecause(whoLeads());
      }
      sendOutbox();
    } catch (StoreException e) {
      log.warn("controller node {}: {}", name, e.getMessage());
    } catch (RuntimeException e) {
      log.error("controller node {}: beat failed: {}", name, e.getMessage(), e);
    }
  }

  /**
   * Another process runs as this node's name now (it started while this one was paused or cut off
   * for longer than a lease): this one stops leading, sends its agents away and stops beating, and
   * {@link #onNameTaken} decides the rest (the controller exits, for an operator to rename one).
   */
  private void nameTaken(ClusterStore.NameHolder other) {
    claimed = false;
    String why = "another process runs as controller node " + name + " (at " + other.address() + ")";
    log.error("{}; this one stops: two nodes with one name would take each other's agents' commands. Give one of them"
        + " a name of its own ('node:' in controller.yaml)", why);
    epoch = 0;
    hosts.clear();
    rollouts.follow("controller node " + name + " stopped: " + why);
    registry.sendAway(why);
    onNameTaken.run();
  }

  /** Takes the lease when it is free, renews it while leading, and stops leading when it cannot. */
  private void holdLease() {
    long now = System.nanoTime();
    try {
      if (epoch == 0) {
        OptionalLong taken = lease.acquire(name, LEASE);
        if (taken.isPresent()) {
          lead(taken.getAsLong(), now);
        }
      } else if (lease.renew(name, epoch, LEASE)) {
        renewed = now;
        if (!rollouts.leading()) {
          // The watchdog stopped the engine while the database was away, and the lease held: go on.
          log.info("controller node {} renewed its lease (epoch {}) after a wait; leading again", name, epoch);
          rollouts.lead();
        }
      } else {
        follow("another node took the lease over");
      }
    } catch (StoreException e) {
      if (epoch != 0 && Duration.ofNanos(now - renewed).compareTo(LEASE.minus(BEAT.multipliedBy(2))) >= 0) {
        // Before the lease can lapse in the database: the next leader may be about to start.
        follow("cannot renew the lease (" + e.getMessage() + ")");
      } else {
        log.warn("controller node {} cannot reach the lease: {}", name, e.getMessage());
      }
    }
  }

  /** On {@link #watchdog}: stops the engine once the lease went unrenewed for all but two beats of it. */
  private void watch() {
    Duration since = Duration.ofNanos(System.nanoTime() - renewed);
    if (epoch != 0 && since.compareTo(LEASE.minus(BEAT.multipliedBy(2))) >= 0 && rollouts.leading()) {
      log.warn("controller node {} could not renew its lease for {} s; it stops running rollouts before the lease"
          + " can lapse", name, since.toSeconds());
      rollouts.follow("controller node " + name + " cannot reach the database to renew its lease; retry in a few"
          + " seconds");
    }
  }

  private void lead(long taken, long now) {
    lease.fence(name, taken); // before the engine reads anything it could act on
    epoch = taken;
    renewed = now;
    cursor = cluster.lastEvent();
    hosts.reset(cluster.holdings());
    buryLapsedNodes();
    rollouts.lead();
    followingBecause = "";
    leaderAddress = Optional.empty();
    store.audit().record(AuditEntry.of(clock.instant(), "controller", "node leads", name,
        "controller node " + name + " at " + address + " leads (lease epoch " + taken + "); it resumed every"
            + " running deployment"));
    log.info("controller node {} leads (lease epoch {})", name, taken);
  }

  private void follow(String why) {
    long was = epoch;
    epoch = 0;
    watched = -1;
    hosts.clear();
    rollouts.follow("controller node " + name + " no longer leads; retry in a few seconds");
    log.warn("controller node {} stopped leading (epoch {}): {}", name, was, why);
  }

  /** What admin actions on this node are told while another leads. */
  private void followingBecause(String why) {
    if (!why.equals(followingBecause)) {
      followingBecause = why;
      rollouts.follow(why);
    }
  }

  private String whoLeads() {
    Optional<LeaseStore.Holder> holder = lease.holder().filter(h -> h.expires().isAfter(clock.instant()));
    leaderAddress = Optional.empty();
    if (holder.isEmpty() || holder.get().node().equals(name)) {
      return "no controller node leads right now (a takeover takes up to " + (LEASE.plus(BEAT).toSeconds())
          + " s); retry in a few seconds";
    }
    String leader = holder.get().node();
    String at = cluster.nodes(LEASE).stream().filter(n -> n.name().equals(leader)).map(ClusterStore.Node::address)
        .findFirst().orElse("?");
    leaderAddress = at.equals("?") ? Optional.empty() : Optional.of(at);
    return "controller node " + name + " does not run rollouts; node " + leader + " leads: run this against it"
        + " (--controller " + at + ")";
  }

  /**
   * Every live node's address, this one first, for agents' welcomes, and for the CLI on this
   * machine ({@link #NODES_FILE}) to try when this node does not answer.
   */
  private void addresses() {
    List<String> all = new ArrayList<>(List.of(address));
    for (ClusterStore.Node n : cluster.nodes(LEASE)) {
      if (n.alive() && !n.name().equals(name) && !all.contains(n.address())) {
        all.add(n.address());
      }
    }
    registry.controllerAddresses(all);
    if (!all.equals(written)) {
      try {
        io.rackroll.trust.SecureFiles.writeString(nodesFile, String.join("\n", all) + "\n",
            io.rackroll.trust.SecureFiles.OWNER_ONLY);
        written = all;
      } catch (java.io.IOException e) {
        log.warn("cannot write {}: {}", nodesFile, e.getMessage());
      }
    }
  }

  /**
   * The leader gives up nodes that have not said they are alive within a lease: their agents are
   * marked disconnected (the engine hears it as from the node), and the node leaves the list.
   */
  private void buryLapsedNodes() {
    for (String lapsed : cluster.lapsedNodes(LEASE)) {
      if (lapsed.equals(name)) {
        continue;
      }
      int n = disconnectAgentsOf(lapsed, "node " + lapsed + " stopped answering");
      cluster.nodeGone(lapsed);
      store.audit().record(AuditEntry.of(clock.instant(), "controller", "node lost", lapsed,
          "controller node " + lapsed + " was not heard from for " + LEASE.toSeconds() + " s; its " + n
              + " agent(s) were marked disconnected until they reconnect to another node"));
      log.warn("controller node {} was not heard from for {} s; its {} agent(s) are disconnected", lapsed,
          LEASE.toSeconds(), n);
    }
    readEvents();
  }

  /** Marks the agents node {@code node} held disconnected, each with an event; returns how many. */
  private int disconnectAgentsOf(String node, String why) {
    int[] n = {0};
    store.commits().grouped(() -> {
      cluster.orderEvents();
      for (String agentId : store.agents().disconnectAll(clock.instant(), node)) {
        cluster.event(node, agentId, NodeEvents.DISCONNECTED, new byte[0]);
        n[0]++;
      }
    });
    if (n[0] > 0) {
      log.info("{}: marked {} agent(s) it held disconnected until they reconnect", why, n[0]);
    }
    return n[0];
  }

  /** The leader hands its engine every event written since the last it read. */
  private void readEvents() {
    if (epoch == 0) {
      watchEvents();
      return;
    }
    List<ClusterStore.Event> batch;
    do {
      batch = cluster.eventsAfter(cursor, BATCH);
      for (ClusterStore.Event e : batch) {
        cursor = e.seq();
        if (hosts.apply(e) && !NodeEvents.replay(e, rollouts)) {
          log.warn("event {} of node {} ({}) cannot be read by this version; skipped", e.seq(), e.node(), e.kind());
        }
        if (!e.node().equals(name)) {
          agentChanged.accept(e.agentId()); // this node's own agents, its console heard of directly
        }
      }
    } while (batch.size() == BATCH);
  }

  /**
   * While following: what the other nodes' agents did, for this node's web console, which hears
   * only of its own agents from its registry (nothing to do without a console).
   */
  private void watchEvents() {
    if (!watching) {
      return;
    }
    if (watched < 0) {
      watched = cluster.lastEvent(); // from now on: the console read the fleet when it opened
      return;
    }
    List<ClusterStore.Event> batch;
    do {
      batch = cluster.eventsAfter(watched, BATCH);
      java.util.Set<String> changed = new java.util.LinkedHashSet<>();
      for (ClusterStore.Event e : batch) {
        watched = e.seq();
        if (!e.node().equals(name)) {
          changed.add(e.agentId());
        }
      }
      changed.forEach(agentChanged);
    } while (batch.size() == BATCH);
  }

  /**
   * Tells this node's web console of every change to another node's agents and, while another
   * node leads, of every change to a deployment (the leader announces them, a few at a time).
   */
  public void watchForConsole(java.util.function.Consumer<String> agentChanged,
      java.util.function.Consumer<String> deploymentChanged) {
    this.agentChanged = agentChanged;
    this.deploymentChanged = deploymentChanged;
    this.watching = true;
  }

  /**
   * On the leader: deployment {@code id} changed; the other nodes' consoles are told within
   * {@link #ANNOUNCE_EVERY}, every deployment that changed meanwhile once.
   */
  public void deploymentChanged(String id) {
    boolean first;
    synchronized (changedDeployments) {
      first = changedDeployments.isEmpty();
      changedDeployments.add(id);
    }
    if (first) {
      work.schedule(this::announceDeployments, ANNOUNCE_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void announceDeployments() {
    List<String> ids;
    synchronized (changedDeployments) {
      ids = List.copyOf(changedDeployments);
      changedDeployments.clear();
    }
    for (String id : ids) {
      changed(DEPLOYMENT + id);
    }
  }

  /** What another node's announcement starts with when a deployment changed. */
  public static final String DEPLOYMENT = "deployment:";
  private static final Duration ANNOUNCE_EVERY = Duration.ofMillis(250);
  private final java.util.Set<String> changedDeployments = new java.util.LinkedHashSet<>();
  private volatile java.util.function.Consumer<String> agentChanged = id -> { };
  private volatile java.util.function.Consumer<String> deploymentChanged = id -> { };
  private volatile boolean watching;
  /** The last event this node's console was told of while following (-1: none read yet); on {@link #work}. */
  private long watched = -1;

  /** Sends the agents this node holds what the leader wrote for them. */
  private void sendOutbox() {
    if (!claimed) {
      return; // what is written for this name is for the process that runs as it now
    }
    List<ClusterStore.Outgoing> batch;
    do {
      batch = cluster.take(name, BATCH);
      for (ClusterStore.Outgoing o : batch) {
        try {
          if (!registry.send(o.agentId(), Command.parseFrom(o.command()))) {
            // It left this node since: the leader hears of its reconnect and sends it again.
            log.debug("agent {} is no longer connected to node {}; its command waits for its reconnect", o.agentId(),
                name);
          }
        } catch (InvalidProtocolBufferException e) {
          log.warn("command {} for agent {} cannot be read by this version; dropped", o.seq(), o.agentId());
        }
      }
    } while (batch.size() == BATCH);
  }

  /** On {@link #listening}: waits for notifications and hands each kind of work to {@link #work} once. */
  private void listen() {
    Duration retry = Duration.ofSeconds(1);
    while (!closed && claimed) {
      try (ClusterStore.Listener listener = cluster.listen()) {
        retry = Duration.ofSeconds(1);
        Threads.post(work, this::catchUp); // what was written while nobody listened
        while (!closed && claimed) {
          boolean events = false;
          boolean outbox = false;
          java.util.Set<String> changed = new java.util.TreeSet<>();
          for (ClusterStore.Wake w : listener.await(LISTEN_WAIT)) {
            events |= w.channel().equals(ClusterStore.EVENTS);
            outbox |= w.channel().equals(ClusterStore.OUTBOX) && w.payload().equals(name);
            if (w.channel().equals(ClusterStore.CHANGED) && !w.payload().startsWith(name + ":")) {
              changed.add(w.payload().substring(w.payload().indexOf(':') + 1));
            }
          }
          if (!changed.isEmpty()) {
            Threads.post(work, () -> reread(changed));
          }
          if (events) {
            Threads.post(work, this::readEventsNow);
          }
          if (outbox) {
            Threads.post(work, this::sendOutboxNow);
          }
        }
      } catch (StoreException e) {
        if (closed) {
          return;
        }
        log.warn("controller node {} cannot listen for the other nodes ({}); retrying in {} s", name, e.getMessage(),
            retry.toSeconds());
        try {
          Thread.sleep(retry.toMillis()); // the database is away: wait before asking again
        } catch (InterruptedException x) {
          return;
        }
        retry = retry.multipliedBy(2).compareTo(BEAT) > 0 ? BEAT : retry.multipliedBy(2);
      }
    }
  }

  private void catchUp() {
    reread(EVERYTHING); // what another node changed while this one did not listen
    readEventsNow();
    sendOutboxNow();
  }

  private void reread(java.util.Collection<String> what) {
    for (String w : what) {
      if (w.startsWith(DEPLOYMENT)) {
        deploymentChanged.accept(w.substring(DEPLOYMENT.length()));
        continue;
      }
      try {
        refresh.accept(w);
      } catch (RuntimeException e) {
        log.warn("controller node {} cannot read the {} another node changed: {}", name, w, e.getMessage());
      }
    }
  }

  private void readEventsNow() {
    try {
      readEvents();
    } catch (StoreException e) {
      log.warn("controller node {} cannot read the nodes' events: {}", name, e.getMessage());
    }
  }

  private void sendOutboxNow() {
    try {
      sendOutbox();
    } catch (StoreException e) {
      log.warn("controller node {} cannot read its agents' commands: {}", name, e.getMessage());
    }
  }

  /** Where the node that leads is reached, when another one does; empty while this one leads or none does. */
  public Optional<String> leaderAddress() {
    return leaderAddress;
  }

  /** Admins, revocations, key statements, environments: what every node keeps in memory and reloads. */
  public static final String ADMINS = "admins";
  public static final String REVOCATIONS = "revocations";
  public static final String KEY_STATEMENTS = "keys";
  public static final String ENVIRONMENTS = "environments";
  private static final List<String> EVERYTHING = List.of(ADMINS, REVOCATIONS, KEY_STATEMENTS, ENVIRONMENTS);

  /**
   * How this node reads again what another changed ({@link #ADMINS} and the like); after a lost
   * listening connection, everything is read again.
   */
  public void onChangeElsewhere(java.util.function.Consumer<String> refresh) {
    this.refresh = refresh;
  }

  /** Tells the other nodes this one changed {@code what}; a lost word costs them a delay, never the change. */
  public void changed(String what) {
    try {
      cluster.announce(name, what);
    } catch (StoreException e) {
      log.warn("controller node {} cannot tell the others that {} changed: {}", name, what, e.getMessage());
    }
  }

  /** Whether this node leads now (as it last knew). */
  public boolean leading() {
    return rollouts.leading();
  }

  /**
   * Stops, after the engine and the registry did (so nothing is written or sent after): lets the
   * lease go (the next node takes over at its next beat instead of after the lease lapses), marks
   * its agents disconnected for the leader and leaves the list of nodes.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    listening.interrupt();
    watchdog.shutdownNow();
    work.shutdown();
    try {
      work.awaitTermination(5, TimeUnit.SECONDS);
      // Its connection goes back to the pool before the pool closes: it wakes within a beat.
      if (listening.isAlive()) {
        listening.join(LISTEN_WAIT.plusSeconds(1).toMillis());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    work.shutdownNow();
    if (!claimed) {
      return; // the name, its agents and its row are another process's (or were never this one's)
    }
    try {
      if (epoch != 0) {
        lease.release(name, epoch);
        log.info("controller node {} let the lease go", name);
      }
      disconnectAgentsOf(name, "this node stopped");
      cluster.nodeGone(name);
    } catch (RuntimeException e) {
      log.warn("controller node {} cannot leave cleanly ({}); the others take it for dead in {} s", name,
          e.getMessage(), LEASE.toSeconds());
    }
  }
}
