package io.rackroll.controller.testing;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.rackroll.controller.enroll.EnrollmentService;
import io.rackroll.controller.fleet.LinkSettings;
import io.rackroll.controller.pki.ControllerPki;
import io.rackroll.controller.server.ControllerConfig;
import io.rackroll.controller.server.ControllerServer;
import io.rackroll.controller.store.JdbcStore;
import io.rackroll.controller.store.Store;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.CreateTokenRequest;
import io.rackroll.trust.MutualTls;
import io.rackroll.trust.Pem;
import io.rackroll.wire.ReleaseUpload;
import io.rackroll.wire.HostPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * A real controller in this JVM on a loopback port with real TLS, on a clock the test moves.
 * Closes every channel it handed out.
 */
public final class TestController implements Wire, AutoCloseable {
  public final Path data;
  public final MutableClock clock;
  public final ControllerPki pki;
  private final ControllerServer server;
  private final ControllerConfig config;
  private final Function<Path, Store> openStore;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private ManagedChannel adminChannel;

  private final UnaryOperator<String> newAgentIds;

  private TestController(Path data, MutableClock clock, ControllerPki pki, ControllerServer server,
      ControllerConfig config, Function<Path, Store> openStore, UnaryOperator<String> newAgentIds) {
    this.newAgentIds = newAgentIds;
    this.config = config;
    this.openStore = openStore;
    this.data = data;
    this.clock = clock;
    this.pki = pki;
    this.server = server;
  }

  /** Heartbeats every 200 ms, stale after 2 s of the test clock. */
  public static TestController start(Path data) throws Exception {
    return start(data, new LinkSettings(Duration.ofMillis(200), Duration.ofSeconds(2), 256));
  }

  public static TestController start(Path data, LinkSettings link) throws Exception {
    return start(data, link, JdbcStore::embedded);
  }

  public static TestController start(Path data, LinkSettings link, Function<Path, Store> openStore) throws Exception {
    return start(data, c -> c.withLink(link), openStore);
  }

  /** With settings of the test's choosing, on top of the defaults and a loopback port. */
  public static TestController start(Path data, UnaryOperator<ControllerConfig> settings,
      Function<Path, Store> openStore) throws Exception {
    return start(data, settings, openStore, requested -> requested);
  }

  /** Naming new agents as production does (random ids), for tests of identity itself. */
  public static TestController startAssigningIds(Path data) throws Exception {
    return start(data, c -> c, JdbcStore::embedded, EnrollmentService.RANDOM_IDS);
  }

  /**
   * Another controller node beside {@code first}, on the store {@code openStore} opens (the same
   * database): it is given {@code first}'s CA and secrets key, as a node that joined has them.
   */
  public static TestController startNode(Path data, TestController first, UnaryOperator<ControllerConfig> settings,
      Function<Path, Store> openStore) throws Exception {
    java.nio.file.Files.createDirectories(data);
    try (var files = java.nio.file.Files.walk(ControllerPki.dir(first.data))) {
      for (Path from : files.toList()) {
        Path to = ControllerPki.dir(data).resolve(ControllerPki.dir(first.data).relativize(from).toString());
        if (java.nio.file.Files.isDirectory(from)) {
          java.nio.file.Files.createDirectories(to);
        } else {
          java.nio.file.Files.copy(from, to);
        }
      }
    }
    Path secrets = first.data.resolve(io.rackroll.controller.env.SecretBox.KEY_FILE);
    if (java.nio.file.Files.exists(secrets)) {
      java.nio.file.Files.copy(secrets, data.resolve(io.rackroll.controller.env.SecretBox.KEY_FILE));
    }
    MutableClock clock = MutableClock.startingNow();
    ControllerPki pki = ControllerPki.load(data, clock);
    ControllerConfig config = settings.apply(ControllerConfig.defaults().withListen(new HostPort("127.0.0.1", 0))
        .withMetrics(null).withLink(new LinkSettings(Duration.ofMillis(200), Duration.ofSeconds(2), 256)));
    return new TestController(data, clock, pki, started(data, config, clock, openStore, requested -> requested), config,
        openStore, requested -> requested);
  }

  /** Whether this controller runs rollouts (always, for one alone; the lease's holder among several). */
  public boolean leading() {
    return server.leading();
  }

  private static TestController start(Path data, UnaryOperator<ControllerConfig> settings,
      Function<Path, Store> openStore, UnaryOperator<String> newAgentIds) throws Exception {
    MutableClock clock = MutableClock.startingNow();
    ControllerPki pki = ControllerPki.init(data, List.of("localhost", "127.0.0.1"), clock);
    ControllerConfig config = settings.apply(ControllerConfig.defaults().withListen(new HostPort("127.0.0.1", 0))
        .withMetrics(new HostPort("127.0.0.1", 0))
        .withLink(new LinkSettings(Duration.ofMillis(200), Duration.ofSeconds(2), 256)));
    return new TestController(data, clock, pki, started(data, config, clock, openStore, newAgentIds), config,
        openStore, newAgentIds);
  }

  /**
   * Hosts get the ids the test names them by (RawAgent asks for it), unless {@code newAgentIds} is the
   * production assignment: identity tests check that.
   */
  private static ControllerServer started(Path data, ControllerConfig config, MutableClock clock,
      Function<Path, Store> openStore, UnaryOperator<String> newAgentIds) throws Exception {
    ControllerServer server = new ControllerServer(data, config, clock, openStore, newAgentIds);
    try {
      server.start();
    } catch (Exception e) {
      server.close();
      throw e;
    }
    return server;
  }

  /** Stops the controller as SIGTERM does, its clients' channels left open to see how it ends their calls. */
  public void stopServer() {
    server.close();
  }

  /** Stops this controller and starts another on the same data directory and clock (on a new port). */
  public TestController restart() throws Exception {
    close();
    return new TestController(data, clock, pki, started(data, config, clock, openStore, newAgentIds), config,
        openStore, newAgentIds);
  }

  /**
   * Another controller on this one's data directory, clock and settings, once this one was closed
   * (a test changes what it finds in between: the store as a crash would leave it, say).
   */
  public TestController startAgain() throws Exception {
    return new TestController(data, clock, pki, started(data, config, clock, openStore, newAgentIds), config,
        openStore, newAgentIds);
  }

  /** An HTTPS client that trusts this controller's CAs, as a browser told to: for its web console. */
  public java.net.http.HttpClient browser() throws Exception {
    java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    int i = 0;
    for (java.security.cert.X509Certificate ca : pki.trusted()) {
      trust.setCertificateEntry("ca" + i++, ca);
    }
    javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
        javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
    tls.init(null, tmf.getTrustManagers(), null);
    return java.net.http.HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
  }

  public HostPort address() {
    return new HostPort("127.0.0.1", server.port());
  }

  @Override
  public ManagedChannel channel(SslContext tls) {
    ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).sslContext(tls).build();
    synchronized (channels) {
      channels.add(c);
    }
    return c;
  }

  /** A new admin connection (its own TLS handshake), closed with this controller. */
  public AdminGrpc.AdminBlockingStub freshAdmin() {
    Path dir = ControllerPki.dir(data);
    return AdminGrpc.newBlockingStub(channel(MutualTls.client(Pem.readPrivateKey(dir.resolve("admin.key")),
        Pem.readCertificates(dir.resolve("admin.crt")), pki.trusted()))).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  /** The admin's stub, on one channel opened on first use; a fresh deadline per call. */
  public synchronized AdminGrpc.AdminBlockingStub admin() {
    if (adminChannel == null) {
      Path dir = ControllerPki.dir(data);
      adminChannel = channel(MutualTls.client(Pem.readPrivateKey(dir.resolve("admin.key")),
          Pem.readCertificates(dir.resolve("admin.crt")), pki.trusted()));
    }
    return AdminGrpc.newBlockingStub(adminChannel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  /**
   * Adds admin {@code name} with {@code role} as an owner does (its key made here, only the request
   * sent) and returns a stub on its own connection with the certificate issued.
   */
  public AdminGrpc.AdminBlockingStub addAdmin(String name, String role, String... environments) {
    java.security.KeyPair pair = io.rackroll.trust.Keys.newKeyPair();
    return adminWith(pair.getPrivate(), issueAdmin(name, role, pair, environments));
  }

  /**
   * Has an owner issue {@code name} ({@code role}, limited to {@code environments} if any) a
   * certificate for {@code pair}'s public key; returns it.
   */
  public java.util.List<java.security.cert.X509Certificate> issueAdmin(String name, String role,
      java.security.KeyPair pair, String... environments) {
    var issued = admin().addAdmin(io.rackroll.proto.v1.AddAdminRequest.newBuilder().setName(name).setRole(role)
        .addAllEnvironments(java.util.List.of(environments))
        .setCsrPem(Pem.encodeCsr(io.rackroll.trust.Keys.csr(io.rackroll.trust.PeerIdentity.admin(name), pair))).build());
    return Pem.certificates(issued.getCertificatePem());
  }

  /** A stub on a new connection presenting {@code chain}. */
  public AdminGrpc.AdminBlockingStub adminWith(java.security.PrivateKey key, java.util.List<java.security.cert.X509Certificate> chain) {
    return AdminGrpc.newBlockingStub(channel(MutualTls.client(key, chain, pki.trusted())))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  /** Pushes an artifact as {@code rackroll release push} does (streamed); returns its digest. */
  public String push(Path artifact) throws Exception {
    return ReleaseUpload.upload(AdminGrpc.newStub(admin().getChannel()), artifact, java.nio.file.Files.size(artifact))
        .getRelease().getDigest();
  }

  public String token(Map<String, String> labels, int uses) {
    return admin().createToken(CreateTokenRequest.newBuilder().putAllLabels(labels).setUses(uses).build()).getToken();
  }

  @Override
  public void close() {
    synchronized (channels) {
      channels.forEach(ManagedChannel::shutdownNow);
    }
    server.close();
  }
}
