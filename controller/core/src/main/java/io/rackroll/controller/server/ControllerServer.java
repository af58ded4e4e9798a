package io.rackroll.controller.server;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.rackroll.controller.admin.AdminService;
import io.rackroll.controller.admin.StatusReports;
import io.rackroll.controller.auth.Admins;
import io.rackroll.controller.auth.CallerInterceptor;
import io.rackroll.controller.auth.RequestNames;
import io.rackroll.controller.auth.Revocations;
import io.rackroll.controller.cluster.ClusterNode;
import io.rackroll.controller.rollout.Rollouts;
import java.time.Duration;
import io.rackroll.controller.enroll.EnrollmentService;
import io.rackroll.controller.enroll.Tokens;
import io.rackroll.controller.env.EnvironmentService;
import io.rackroll.controller.env.SecretBox;
import io.rackroll.controller.fleet.AgentLinkService;
import io.rackroll.controller.fleet.AgentRegistry;
import io.rackroll.controller.metrics.ControllerMetrics;
import io.rackroll.controller.metrics.RpcMetrics;
import io.rackroll.controller.pki.ControllerPki;
import io.rackroll.controller.pki.IssuedCertificates;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.rackroll.proto.v1.AgentLinkGrpc;
import java.util.concurrent.Executor;
import io.rackroll.controller.release.ArtifactService;
import io.rackroll.controller.release.ArtifactStore;
import io.rackroll.controller.store.Store;
import io.rackroll.trust.MutualTls;
import io.rackroll.trust.SecureFiles;
import io.rackroll.wire.HostPort;
import io.rackroll.wire.Threads;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller process, wired by hand: PKI, store, fleet registry and the gRPC server.
 * The constructor does no I/O; {@link #start()} loads, restores and listens; {@link #close()}
 * stops in reverse order.
 */
public final class ControllerServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControllerServer.class);
  /** Written after binding: where this controller actually listens (useful with port 0). */
  public static final String ADDRESS_FILE = "controller.address";
  /** Written after binding, when metrics are served: where (useful with port 0). */
  public static final String METRICS_ADDRESS_FILE = "metrics.address";

  private final Path dataDir;
  private final ControllerConfig config;
  private final Clock clock;
  private final Function<Path, Store> openStore;
  private final java.util.function.UnaryOperator<String> newAgentIds;
  private Store store;
  private AgentRegistry registry;
  private Rollouts rollouts;
  /** This controller as one node of several on one database; null for a single controller. */
  private ClusterNode node;
  /** Passes admin calls on to the node that leads; null for a single controller. */
  private io.rackroll.controller.cluster.LeaderForwarding forwarding;
  private ControllerMetrics metrics;
  private io.rackroll.controller.web.WebConsole console;
  private final Instant startedAt;
  private ThreadPoolExecutor callbacks;
  private ExecutorService artifactIo;
  private ScheduledExecutorService pacer;
  private Server server;
  private FileChannel lockChannel;
  private EventLoopGroup boss;
  private EventLoopGroup workers;

  public ControllerServer(Path dataDir, ControllerConfig config, Clock clock) {
    this(dataDir, config, clock, config.database()::open);
  }

  /** With another store backend: opened in {@link #start()}, closed in {@link #close()}. */
  public ControllerServer(Path dataDir, ControllerConfig config, Clock clock, Function<Path, Store> openStore) {
    this(dataDir, config, clock, openStore, EnrollmentService.RANDOM_IDS);
  }

  /**
   * With another way to name new agents than {@link EnrollmentService#RANDOM_IDS}: wire-level tests
   * name their hosts so that their assertions read like the fleet they describe.
   */
  public ControllerServer(Path dataDir, ControllerConfig config, Clock clock, Function<Path, Store> openStore,
      java.util.function.UnaryOperator<String> newAgentIds) {
    this.dataDir = dataDir;
    this.config = config;
    this.clock = clock;
    this.openStore = openStore;
    this.newAgentIds = newAgentIds;
    this.startedAt = clock.instant();
  }

  public static String version() {
    String v = ControllerServer.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /**
   * Runs a controller in the foreground on {@code clock} until the process is told to stop
   * (SIGTERM, Ctrl-C), then closes it. What {@code controller run} does once its options are read.
   */
  public static void runUntilStopped(Path dataDir, ControllerConfig config, Clock clock)
      throws IOException, InterruptedException {
    ControllerServer server = new ControllerServer(dataDir, config, clock);
    java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "shutdown"));
    java.util.concurrent.atomic.AtomicBoolean nameTaken = new java.util.concurrent.atomic.AtomicBoolean();
    server.stopFor = () -> {
      nameTaken.set(true);
      stopped.countDown();
    };
    server.start();
    stopped.await();
    if (nameTaken.get()) {
      throw new ClusterNode.NameInUse("another process took this controller node's name while it ran; it stopped."
          + " Give one of them a name of its own ('node:' in controller.yaml)");
    }
  }

  /**
   * What runs when this controller has to stop by itself (another process took its node name):
   * {@link #runUntilStopped} returns, and the process exits for an operator to act.
   */
  private volatile Runnable stopFor = () -> { };

  public void start() throws IOException {
    ControllerPki pki = ControllerPki.load(dataDir, clock);
    lockDataDir();
    store = openStore.apply(dataDir);
    boolean clustered = store.cluster().isPresent();
    String nodeName = clustered ? nodeName(config.node()) : "";
    Tokens tokens = new Tokens(store.enrollment(), clock, pki.caFingerprint());
    registry = new AgentRegistry(store.agents(), clustered ? ClusterNode.eventsFirst(store) : store.commits(), clock,
        config.link(), version(),
        io.rackroll.trust.Pem.encode(pki.trusted().toArray(java.security.cert.X509Certificate[]::new)), nodeName);
    if (!clustered) {
      registry.restore(); // among several nodes, ClusterNode does it for this node's agents alone
    }
    registry.keyStatements(store.releases().keyStatements().stream()
        .map(io.rackroll.controller.store.ReleaseStore.KeyStatementRecord::text).toList());
    // Unfinished deployments are loaded before any agent can connect and report.
    EnvironmentService environments = EnvironmentService.load(store.environments(), store.agents(), store.audit(), clock,
        SecretBox.open(dataDir));
    Duration reconnectGrace = config.link().heartbeatInterval().multipliedBy(3);
    ClusterNode.HostsView everyNode = clustered ? ClusterNode.hosts(store.cluster().get()) : null;
    if (clustered) {
      rollouts = new Rollouts(store, everyNode.hosts(), clock, reconnectGrace, environments);
    } else {
      rollouts = new Rollouts(store, registry, clock, reconnectGrace, environments);
      rollouts.start();
    }
    metrics = new ControllerMetrics(store.agents(), store.deployments(), registry, version(),
        java.util.Map.of("ca", pki.ca().certificate(), "server", pki.serverChain().get(0)), clock);
    Revocations revocations = Revocations.load(store.enrollment(), clock.instant(), dataDir);
    for (String agentId : revocations.lostFromStore(store.enrollment())) {
      // The store lost the revocation in an unclean stop; the journal kept it: record it again.
      store.enrollment().revoke(agentId, "controller", clock.instant());
      store.audit().record(io.rackroll.controller.store.AuditEntry.of(clock.instant(), "controller", "agent revoke", agentId,
          "recovered from the revocation journal after an unclean stop"));
      log.warn("agent {} was revoked before an unclean stop that the database did not keep; revoked again",
          agentId);
    }
    // The admin certificate 'controller init' made (or a CA rotation re-issued) is the first owner's:
    // recorded, so that revoking that owner refuses it by serial too.
    Path firstAdminCrt = ControllerPki.dir(dataDir).resolve("admin.crt");
    if (java.nio.file.Files.exists(firstAdminCrt)) {
      X509Certificate firstAdmin = io.rackroll.trust.Pem.readCertificates(firstAdminCrt).get(0);
      store.enrollment().adminIssued(ControllerPki.ADMIN_NAME, Revocations.serial(firstAdmin),
          firstAdmin.getNotAfter().toInstant(), clock.instant());
    }
    Admins admins = new Admins(store.enrollment(), clock);
    io.rackroll.controller.web.WebSessions webSessions = new io.rackroll.controller.web.WebSessions(clock);
    io.rackroll.controller.web.ConsoleAccess consoleAccess = new io.rackroll.controller.web.ConsoleAccess(webSessions);
    int threads = Math.max(4, Runtime.getRuntime().availableProcessors() * 2);
    callbacks = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(65_536),
        named("grpc-callbacks"));
    IssuedCertificates issued = new IssuedCertificates(store.enrollment().issuedFingerprints(clock.instant()),
        (serial, fingerprint) -> Threads.post(callbacks, () -> learnedFingerprint(serial, fingerprint)));
    EnrollmentService enrollment = new EnrollmentService(tokens, pki.ca(), pki.trusted(), store.enrollment(), store.audit(), clock,
        config.agentCertificateLifetime(), revocations, registry, newAgentIds, issued);
    ArtifactStore artifacts = new ArtifactStore(dataDir, config.maxArtifactSize(), config.unpackLimits(),
        store.blobs().orElse(null));
    artifacts.restore();
    keepPrivate(dataDir); // once the store and the artifact store made their files and directories
    artifactIo = Executors.newFixedThreadPool(4, named("artifact-io"));
    pacer = Threads.serial("transfer-pacer");

    CallerInterceptor callers = new CallerInterceptor(revocations, admins, (name, method, why) -> store.audit().record(
        io.rackroll.controller.store.AuditEntry.of(clock.instant(), name, "refused", method, why)),
        clustered ? io.rackroll.trust.LiveCredentials.trustManager(pki.trusted()) : null);
    AdminService admin = new AdminService(tokens, store, registry, revocations, admins, pki.ca(), artifacts, artifactIo,
        rollouts, new StatusReports(store, registry, clock, version(), startedAt, () -> metrics.address(),
            config.agentCertificateLifetime()), environments, clock, consoleAccess);

    if (clustered) {
      node = new ClusterNode(nodeName, dataDir, version(), store, registry, rollouts, everyNode, clock);
      try {
        node.start(); // before any agent can connect
      } catch (RuntimeException e) {
        close();
        throw e;
      }
      node.onNameTaken(() -> stopFor.run());
      rollouts.watchAll(node::deploymentChanged); // for the consoles of the other nodes
    }
    if (node != null) {
      ClusterNode n = node;
      admins.onChange(() -> n.changed(ClusterNode.ADMINS));
      revocations.onChange(() -> n.changed(ClusterNode.REVOCATIONS));
      environments.onChange(() -> n.changed(ClusterNode.ENVIRONMENTS));
      admin.onKeyStatements(() -> n.changed(ClusterNode.KEY_STATEMENTS));
      admin.joinNodesWith(new io.rackroll.controller.cluster.NodeJoin(pki.ca(), pki.trusted(), dataDir,
          config.database(), registry::controllerAddresses, store.cluster().get()));
      n.onChangeElsewhere(what -> {
        switch (what) {
          case ClusterNode.ADMINS -> admins.reload();
          case ClusterNode.REVOCATIONS -> revocations.refresh(store.enrollment(), clock.instant()).forEach(agentId ->
              registry.revoked(agentId, io.rackroll.trust.PeerIdentity.REVOKED + ": agent " + agentId
                  + " was revoked on another controller node"));
          case ClusterNode.KEY_STATEMENTS -> registry.keyStatements(store.releases().keyStatements().stream()
              .map(io.rackroll.controller.store.ReleaseStore.KeyStatementRecord::text).toList());
          case ClusterNode.ENVIRONMENTS -> environments.reload();
          default -> log.debug("another node changed {}, which this version does not keep", what);
        }
      });
      io.rackroll.controller.store.ClusterStore cluster = store.cluster().get();
      forwarding = new io.rackroll.controller.cluster.LeaderForwarding(nodeName, n::leading, n::leaderAddress,
          cluster::addressOf, pki.ca(), pki.trusted(), clock);
      admin.pingElsewhereWith(forwarding::pingThroughHolder);
    }
    HostPort listen = config.listen();
    HandshakeGate gate = new HandshakeGate(config.maxConcurrentHandshakes(), config.maxHandshakesPerAddress());
    boss = HandshakeGate.eventLoops(1, named("grpc-boss"));
    workers = HandshakeGate.eventLoops(0, named("grpc-worker"));
    server = NettyServerBuilder.forAddress(new InetSocketAddress(listen.host(), listen.port()))
        .channelFactory(gate.channelFactory())
        .bossEventLoopGroup(boss)
        .workerEventLoopGroup(workers)
        .addTransportFilter(gate.readiness())
        .handshakeTimeout(5, TimeUnit.SECONDS) // a stranger holding a socket open holds a slot no longer
        .sslContext(MutualTls.server(pki.serverKey(), pki.serverChain(), issued.trustManager(pki.trusted())))
        .executor(callbacks)
        // An agent's stream only hands its messages on (a timestamp, or an event for the fleet's
        // thread): it runs on the network thread that read them, without a hop to the pool and
        // back. Everything that may block (the store, crypto, files) keeps the pool.
        .callExecutor(new ServerCallExecutorSupplier() {
          @Override
          public <Q, A> Executor getExecutor(ServerCall<Q, A> call, Metadata headers) {
            return call.getMethodDescriptor().equals(AgentLinkGrpc.getConnectMethod()) ? Runnable::run : null;
          }
        })
        .intercept(forwarding != null ? forwarding : PASS) // the innermost: a known caller, names checked
        .intercept(new RequestNames()) // runs after the caller is known: strangers learn nothing from it
        .intercept(callers)
        .intercept(new RpcMetrics(metrics.registry()))
        .addService(enrollment)
        .addService(new AgentLinkService(registry, enrollment))
        .addService(admin)
        .addService(new ArtifactService(artifacts, store.releases(), artifactIo, pacer, config.maxConcurrentTransfers(),
            config.transferRateLimit(), metrics.registry()))
        // Agents ping every 30 s so NAT and firewalls keep the stream; a dead peer is noticed within a minute.
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .keepAliveTime(60, TimeUnit.SECONDS)
        .keepAliveTimeout(20, TimeUnit.SECONDS)
        .maxInboundMessageSize(4 * 1024 * 1024)
        .build();
    try {
      server.start();
    } catch (IOException e) {
      close();
      throw new IOException("cannot listen on " + listen + ": " + e.getMessage()
          + " (is another controller running? change 'listen' in " + dataDir.resolve(ControllerConfig.FILE) + ")", e);
    }
    if (config.web() != null) {
      startConsole(webSessions, admins, admin, callers, pki, consoleAccess);
    }
    if (node != null) {
      HostPort advertised = advertised(config.node(), listen, port(), pki.serverCertificateNames());
      if (LOOPBACK.contains(advertised.host()) && !LOOPBACK.contains(listen.host())) {
        log.warn("controller node {} is reached at {}, a loopback address: agents and nodes on other machines cannot"
            + " use it; set 'advertise' in {} to a name its certificate holds", nodeName(config.node()), advertised,
            dataDir.resolve(ControllerConfig.FILE));
      }
      node.serving(advertised.toString());
    }
    registry.start();
    java.nio.file.Files.deleteIfExists(dataDir.resolve(METRICS_ADDRESS_FILE));
    metrics.start(config.metrics());
    if (metrics.address() != null) {
      SecureFiles.writeString(dataDir.resolve(METRICS_ADDRESS_FILE), metrics.address() + "\n", SecureFiles.OWNER_ONLY);
    }
    HostPort bound = new HostPort(listen.host(), port());
    SecureFiles.writeString(dataDir.resolve(ADDRESS_FILE), bound + "\n", SecureFiles.OWNER_ONLY);
    log.info("controller {} listening on {} (data {}; store: {})", version(), bound, dataDir.toAbsolutePath(),
        config.database());
  }

  /** Serves the web console, told of every change to the fleet and to deployments. */
  private void startConsole(io.rackroll.controller.web.WebSessions sessions, Admins admins, AdminService admin,
      CallerInterceptor callers, ControllerPki pki, io.rackroll.controller.web.ConsoleAccess access) throws IOException {
    // Among several nodes, the console's calls go where the CLI's do: steering to the leader.
    io.grpc.ServerInterceptor[] interceptors = forwarding != null
        ? new io.grpc.ServerInterceptor[] {forwarding, new RequestNames(), callers.console()}
        : new io.grpc.ServerInterceptor[] {new RequestNames(), callers.console()};
    console = new io.rackroll.controller.web.WebConsole(sessions, admins, store.agents(), store.audit(), clock, admin,
        interceptors);
    try {
      console.start(config.web(), pki.serverKey(), pki.serverChain(), pki.serverCertificateNames().get(0), access);
    } catch (IOException e) {
      close();
      throw e;
    }
    io.rackroll.controller.web.WebConsole c = console;
    rollouts.watchAll(c::deploymentChanged);
    if (node != null) {
      node.watchForConsole(c::agentChanged, c::deploymentChanged);
    }
    registry.listen(new io.rackroll.controller.fleet.FleetListener() {
      @Override public void connected(String agentId) { c.agentChanged(agentId); }
      @Override public void disconnected(String agentId) { c.agentChanged(agentId); }
      @Override public void silent(String agentId) { c.agentChanged(agentId); }
      @Override public void job(io.rackroll.controller.store.HostJob job) { c.agentChanged(job.agentId()); }
      @Override public void flags(io.rackroll.controller.store.FlagsReport report) { }
      @Override public void health(String agentId, String app, boolean healthy, String line) { c.agentChanged(agentId); }
      @Override public void downloaded(String agentId, String deploymentId, long bytes, long size) { }
    });
  }

  /** Lets every call through: where a single controller has no interceptor to put. */
  private static final io.grpc.ServerInterceptor PASS = new io.grpc.ServerInterceptor() {
    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
        io.grpc.ServerCallHandler<Q, A> next) {
      return next.startCall(call, headers);
    }
  };

  /** This node's name among several: the configured one, else this machine's host name. */
  static String nodeName(ControllerConfig.NodeSettings node) {
    if (!node.name().isEmpty()) {
      return node.name();
    }
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = "";
    }
    String name = host.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9._-]", "-").replaceAll("^[._-]+", "");
    return name.isEmpty() ? "controller" : name.substring(0, Math.min(63, name.length()));
  }

  /**
   * Where agents and admins reach this node: as configured, else the listen address with the port
   * it bound (this machine's host name when it listens on every address).
   */
  /**
   * Where the other machines reach this node: 'advertise' if set; the listen address if it names
   * one; else (listening on every address) the first name of its server certificate that is not a
   * loopback one, since that certificate lists the names agents use (--san); else the host name.
   */
  static HostPort advertised(ControllerConfig.NodeSettings node, HostPort listen, int port,
      java.util.List<String> names) {
    if (node.advertise() != null) {
      return node.advertise();
    }
    String host = listen.host();
    if (host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
      java.util.Optional<String> named = names.stream().filter(n -> !LOOPBACK.contains(n) && !n.startsWith("*")).findFirst();
      if (named.isPresent()) {
        return new HostPort(named.get(), port);
      }
      try {
        host = java.net.InetAddress.getLocalHost().getCanonicalHostName();
      } catch (IOException e) {
        host = "localhost";
      }
    }
    return new HostPort(host, port);
  }

  private static final java.util.Set<String> LOOPBACK = java.util.Set.of("localhost", "127.0.0.1", "::1", "[::1]");

  /** Records the fingerprint of a certificate issued before they were kept, now verified in full. */
  private void learnedFingerprint(String serial, String fingerprint) {
    try {
      store.enrollment().learnedFingerprint(serial, fingerprint);
    } catch (io.rackroll.controller.store.StoreException e) {
      log.debug("cannot record the fingerprint of certificate {} (its next handshake is checked in full): {}", serial,
          e.getMessage());
    }
  }

  /** One controller per data directory: a second one would fight over the store and the address file. */
  /**
   * Makes the data directory and everything in it its owner's alone (0700 directories, no access
   * for others on files): it holds the CA key, the secrets key and the database. Files the database
   * engine creates later (with the process umask) are inside a 0700 directory, so others cannot
   * reach them either.
   */
  static void keepPrivate(Path dataDir) throws IOException {
    SecureFiles.privateDirectory(dataDir);
    try (Stream<Path> walk = Files.walk(dataDir)) {
      for (Path p : walk.filter(p -> !Files.isSymbolicLink(p)).toList()) {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(p);
        Set<PosixFilePermission> ownerOnly = EnumSet.noneOf(PosixFilePermission.class);
        ownerOnly.addAll(mode);
        ownerOnly.removeIf(bit -> !bit.name().startsWith("OWNER_"));
        if (!ownerOnly.equals(mode)) {
          Files.setPosixFilePermissions(p, ownerOnly);
        }
      }
    }
  }

  private void lockDataDir() throws IOException {
    lockChannel = FileChannel.open(dataDir.resolve("controller.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      lockChannel.close();
      lockChannel = null;
      throw new IllegalStateException("another controller is already running with data directory " + dataDir
          + "; stop it first or use another --data directory");
    }
  }

  private static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Whether this controller runs rollouts: always when alone, while it holds the lease among several nodes. */
  public boolean leading() {
    return node == null || node.leading();
  }

  public int port() {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() {
    if (server != null) {
      server.shutdown();
    }
    if (console != null) {
      console.close();
    }
    if (metrics != null) {
      metrics.close();
    }
    if (rollouts != null) {
      rollouts.close();
    }
    if (registry != null) {
      registry.close();
    }
    if (node != null) {
      node.close();
    }
    if (forwarding != null) {
      forwarding.close();
    }
    try {
      if (server != null && !server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    if (callbacks != null) {
      callbacks.shutdown();
    }
    if (artifactIo != null) {
      artifactIo.shutdown();
      pacer.shutdownNow();
    }
    if (boss != null) {
      boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    }
    if (store != null) {
      store.close();
    }
    if (lockChannel != null) {
      try {
        lockChannel.close(); // releases the lock
      } catch (IOException e) {
        log.warn("cannot release {}: {}", dataDir.resolve("controller.lock"), e.getMessage());
      }
    }
  }
}
