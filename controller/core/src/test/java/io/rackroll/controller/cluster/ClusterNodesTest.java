package io.rackroll.controller.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rackroll.controller.server.ControllerConfig;
import io.rackroll.controller.store.Database;
import io.rackroll.controller.testing.RawAgent;
import io.rackroll.controller.testing.TestController;
import io.rackroll.controller.testing.WireFleet;
import io.rackroll.proto.v1.AuditRecord;
import io.rackroll.proto.v1.ControllerMessage;
import io.rackroll.proto.v1.Deploy;
import io.rackroll.proto.v1.DeployRequest;
import io.rackroll.proto.v1.DeploymentHost;
import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.proto.v1.GetDeploymentRequest;
import io.rackroll.proto.v1.ListAuditRequest;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several controller nodes on one real PostgreSQL database, over real sockets and TLS: agents held
 * by either node, the leader's commands reaching them through the database, their reports
 * reaching the leader, and a takeover when the leader stops. (A SIGKILLed leader, whose lease
 * must lapse first, is the end-to-end tests' part.)
 */
class ClusterNodesTest {
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static EmbeddedPostgres postgres;
  @TempDir Path dir;
  private Database database;
  private final List<TestController> nodes = new ArrayList<>();

  @BeforeAll
  static void startPostgres() throws Exception {
    postgres = EmbeddedPostgres.builder().start();
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
  }

  @BeforeEach
  void freshDatabase() throws Exception {
    String name = "cluster_" + DATABASES.incrementAndGet();
    try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
    database = Database.of(postgres.getJdbcUrl("postgres", name), "", "");
  }

  @AfterEach
  void stopNodes() {
    nodes.forEach(TestController::close);
  }

  /** The first node: makes the CA, and leads once its first beat takes the lease. */
  private TestController first(String name) throws Exception {
    return first(name, database);
  }

  /** The first node, on {@code db} (the same database, as another role, say). */
  private TestController first(String name, Database db) throws Exception {
    TestController node = TestController.start(dir.resolve(name), c -> c.withDatabase(db)
        .withNode(new ControllerConfig.NodeSettings(name, null)), db::open);
    nodes.add(node);
    Path src = java.nio.file.Files.createDirectories(dir.resolve("web"));
    java.nio.file.Files.writeString(src.resolve("rackroll.yaml"), "name: web\nversion: \"1\"\n");
    io.rackroll.release.Artifact.pack(src, dir.resolve("web-1.tar.gz"));
    await(name + " leads").atMost(10, TimeUnit.SECONDS).until(node::leading);
    return node;
  }

  /** Another node, with the first's CA and keys. */
  private TestController another(String name, TestController first) throws Exception {
    TestController node = TestController.startNode(dir.resolve(name), first, c -> c.withDatabase(database)
        .withNode(new ControllerConfig.NodeSettings(name, null)), database::open);
    nodes.add(node);
    return node;
  }

  /** Enrolls {@code id} through {@code enrollWith} and opens its stream to {@code holder}. */
  private static RawAgent.Stream agent(String id, String rack, TestController enrollWith, TestController holder)
      throws Exception {
    RawAgent agent = new RawAgent(id);
    agent.enroll(enrollWith, enrollWith.token(Map.of("rack", rack), 1));
    RawAgent.Stream s = agent.connect(holder, id, RawAgent.facts("host-" + id, "unknown"));
    assertThat(s.next().hasWelcome()).isTrue();
    return s;
  }

  private DeploymentRecord deploy(TestController through, String selector) throws Exception {
    if (through.admin().listReleases(io.rackroll.proto.v1.ListReleasesRequest.getDefaultInstance()).getReleasesCount() == 0) {
      through.push(dir.resolve("web-1.tar.gz"));
    }
    return through.admin().deploy(DeployRequest.newBuilder().setName("web").setVersion("1").setSelector(selector)
        .putOptions("batch", "1").putOptions("canary", "0").putOptions("healthGate", "0s").build());
  }

  private static void awaitCompleted(TestController through, DeploymentRecord d) {
    await(d.getId() + " completes").atMost(10, TimeUnit.SECONDS)
        .until(() -> deployment(through, d.getId()).getState().equals("completed"));
  }

  private static DeploymentRecord deployment(TestController through, String id) {
    return through.admin().getDeployment(GetDeploymentRequest.newBuilder().setId(id).build());
  }

  @Test
  void theLeadersCommandsReachAnAgentHeldByAnotherNodeAndItsReportsComeBack() throws Exception {
    TestController a = first("a");
    TestController b = another("b", a);
    RawAgent.Stream onB = agent("h1", "r1", a, b);

    DeploymentRecord d = deploy(a, "rack=r1");
    Deploy job = WireFleet.command(onB); // written by a, sent by b
    assertThat(job.getDeploymentId()).isEqualTo(d.getId());
    WireFleet.report(onB, job, "ACTIVE"); // heard by b, read by a

    awaitCompleted(a, d);
    assertThat(b.leading()).isFalse();
    // Every node answers reads from the shared database.
    assertThat(deployment(b, d.getId()).getState()).isEqualTo("completed");
    // A ping reaches the agent through either node: a asks b, which holds it.
    for (TestController through : List.of(a, b)) {
      assertThat(through.admin().pingAgent(io.rackroll.proto.v1.PingAgentRequest.newBuilder().setAgentId("h1").build())
          .getRoundTripMicros()).isPositive();
    }
    onB.hangUp();
    await("h1 gone from b").atMost(10, TimeUnit.SECONDS).untilAsserted(() ->
        assertThatThrownBy(() -> a.admin().pingAgent(io.rackroll.proto.v1.PingAgentRequest.newBuilder()
            .setAgentId("h1").build())).isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                assertThat(e.getStatus().getDescription()).isEqualTo("agent h1 is not connected")));
  }

  /**
   * An agent connected before a node joined is told of it at once (not only at its next welcome),
   * and told again when a node leaves: otherwise, when its own node dies later, it knows no node
   * that is alive.
   */
  @Test
  void connectedAgentsAreToldWhenANodeJoinsAndWhenOneLeaves() throws Exception {
    TestController a = first("a");
    RawAgent.Stream h1 = agent("h1", "r1", a, a);
    TestController b = another("b", a);
    assertThat(nextNodes(h1)).containsExactlyInAnyOrder(a.address().toString(), b.address().toString());
    b.close();
    assertThat(nextNodes(h1)).containsExactly(a.address().toString());
  }

  /** The next list of nodes the controller sends down {@code s}, skipping other messages. */
  private static List<String> nextNodes(RawAgent.Stream s) throws InterruptedException {
    while (true) {
      ControllerMessage m = s.next();
      if (m.hasNodes()) {
        return m.getNodes().getAddressesList();
      }
    }
  }

  /**
   * Two processes never run as one node name: a second one, from another data directory, is refused
   * while the first says it is alive (and so is a join under that name), whereas the process that
   * ran last from a data directory starts again at once, even while its earlier run still looks alive.
   */
  @Test
  void aNodeNameInUseIsRefusedToAnotherProcessButNotToARestartFromItsOwnDataDirectory() throws Exception {
    TestController a = first("a");
    assertThatThrownBy(() -> TestController.startNode(dir.resolve("a-copy"), a, c -> c.withDatabase(database)
        .withNode(new ControllerConfig.NodeSettings("a", null)), database::open))
        .isInstanceOf(ClusterNode.NameInUse.class)
        .hasMessage("controller node name a is in use by a running node at " + a.address() + "; give this one a name"
            + " of its own ('node:' in controller.yaml) and start it again: two nodes with one name would take each"
            + " other's agents' commands");
    assertThatThrownBy(() -> a.admin().joinNode(io.rackroll.proto.v1.JoinNodeRequest.newBuilder().setNode("a").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription())
            .isEqualTo("controller node name a is in use by the node at " + a.address() + "; give the new node a name"
                + " of its own with --node"));

    // As a crash leaves it: a's row stays, and goes on looking alive (as if the process still beat).
    a.close();
    String lastRun = java.nio.file.Files.readString(a.data.resolve(ClusterNode.INSTANCE_FILE)).split(" ")[0];
    asDatabaseAdmin("INSERT INTO controller_nodes (name, instance, address, version, started_at, seen_at) VALUES"
        + " ('a', '" + lastRun + "', '127.0.0.1:1', 'x', now(), now())");
    var beat = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    beat.scheduleWithFixedDelay(() -> {
      try {
        asDatabaseAdmin("UPDATE controller_nodes SET seen_at = clock_timestamp() WHERE instance = '" + lastRun + "'");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, 0, 200, TimeUnit.MILLISECONDS);
    try {
      TestController again = a.startAgain();
      nodes.add(again);
      await("a leads again").atMost(15, TimeUnit.SECONDS).until(again::leading);
    } finally {
      beat.shutdownNow();
    }
  }

  /**
   * Another process took a running node's name (it started while this one was paused for longer
   * than a lease): the node sends its agents away, stops leading, and leaves the name's row alone.
   */
  @Test
  void aNodeWhoseNameAnotherProcessTookStopsActingAsIt() throws Exception {
    TestController a = first("a");
    RawAgent.Stream h1 = agent("h1", "r1", a, a);
    asDatabaseAdmin("UPDATE controller_nodes SET instance = 'another', address = '10.0.0.9:7443' WHERE name = 'a'");
    Status ended = h1.closed.get(10, TimeUnit.SECONDS);
    assertThat(ended.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(ended.getDescription()).startsWith("another process runs as controller node a (at 10.0.0.9:7443)");
    await("a stops leading").atMost(10, TimeUnit.SECONDS).until(() -> !a.leading());
    a.close();
    try (Connection c = java.sql.DriverManager.getConnection(database.url()); Statement s = c.createStatement();
        var rs = s.executeQuery("SELECT instance FROM controller_nodes WHERE name = 'a'")) {
      assertThat(rs.next()).as("the row of the process that runs as a now").isTrue();
      assertThat(rs.getString(1)).isEqualTo("another");
    }
  }

  /**
   * The web console of a node that does not lead works as the CLI does through it: a steering
   * action reaches the leader, made as the signed-in admin, and the page hears of the leader's
   * deployment changes and of agents held by other nodes.
   */
  @Test
  void aFollowersWebConsoleSteersTheLeadersRolloutAndHearsOfTheWholeFleet() throws Exception {
    TestController a = first("a");
    TestController b = TestController.startNode(dir.resolve("b"), a, c -> c.withDatabase(database)
        .withNode(new ControllerConfig.NodeSettings("b", null))
        .withWeb(new io.rackroll.wire.HostPort("127.0.0.1", 0)), database::open);
    nodes.add(b);
    RawAgent.Stream onA = agent("h1", "r1", a, a);
    DeploymentRecord d = deploy(a, "rack=r1");
    WireFleet.command(onA); // in flight: the host holds it

    java.net.http.HttpClient http = a.browser();
    String link = b.admin().createWebLogin(io.rackroll.proto.v1.CreateWebLoginRequest.getDefaultInstance()).getUrl();
    String base = link.substring(0, link.indexOf("/#login="));
    var signIn = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/api/session"))
        .header("Origin", base).header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"link\":\"" + link.substring(link.indexOf("#login=") + 7)
            + "\"}")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(signIn.statusCode()).as(signIn.body()).isEqualTo(200);
    String setCookie = signIn.headers().firstValue("set-cookie").orElseThrow();
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));
    java.util.regex.Matcher csrf = java.util.regex.Pattern.compile("\"csrf\":\"([^\"]+)\"").matcher(signIn.body());
    assertThat(csrf.find()).as(signIn.body()).isTrue();

    java.util.concurrent.BlockingQueue<String> events = new java.util.concurrent.LinkedBlockingQueue<>();
    var stream = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/api/events"))
        .header("Cookie", cookie).build(), java.net.http.HttpResponse.BodyHandlers.ofLines());
    Thread reader = new Thread(() -> stream.body().forEach(events::add), "events");
    reader.setDaemon(true);
    reader.start();
    try {
      var paused = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base
          + "/api/call/ControlDeployment")).header("Cookie", cookie).header("Origin", base)
          .header("X-Rackroll-Csrf", csrf.group(1)).header("Content-Type", "application/json")
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"id\":\"" + d.getId() + "\",\"action\":\"pause\"}"))
          .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(paused.statusCode()).as(paused.body()).isEqualTo(200);
      assertThat(deployment(a, d.getId()).getState()).isEqualTo("paused");
      assertThat(a.admin().listAudit(ListAuditRequest.newBuilder().setLimit(20).build()).getEntriesList())
          .filteredOn(e -> e.getAction().equals("pause")).extracting(AuditRecord::getActor).containsExactly("admin");
      awaitEvent(events, "\"ids\":[\"" + d.getId() + "\"]");

      onA.hangUp(); // an agent of a: b's console hears of it through the database
      awaitEvent(events, "\"id\":\"h1\"");
    } finally {
      stream.body().close();
    }
  }

  private static void awaitEvent(java.util.concurrent.BlockingQueue<String> events, String containing)
      throws InterruptedException {
    List<String> seen = new ArrayList<>();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < until) {
      String line = events.poll(until - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (line != null && line.contains(containing)) {
        return;
      }
      if (line != null) {
        seen.add(line);
      }
    }
    throw new AssertionError("no event with " + containing + " within 10 s; seen: " + seen);
  }

  /** The artifact as agent {@code agent} downloads it from {@code node}. */
  private static byte[] download(RawAgent agent, TestController node, String digest) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    io.rackroll.proto.v1.ArtifactsGrpc.newBlockingStub(agent.channel(node)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .fetch(io.rackroll.proto.v1.FetchRequest.newBuilder().setDigest(digest).build())
        .forEachRemaining(chunk -> out.writeBytes(chunk.getData().toByteArray()));
    return out.toByteArray();
  }

  @Test
  void anArtifactPushedToOneNodeIsServedByAnotherCheckedByItsDigest() throws Exception {
    TestController a = first("a");
    TestController b = another("b", a);
    RawAgent agent = new RawAgent("h1");
    agent.enroll(a, a.token(Map.of("rack", "r1"), 1));
    RawAgent.Stream onB = agent.connect(b, "h1", RawAgent.facts("host-h1", "unknown"));
    assertThat(onB.next().hasWelcome()).isTrue();
    deploy(a, "rack=r1"); // pushed to a
    Deploy job = WireFleet.command(onB);

    byte[] pushed = java.nio.file.Files.readAllBytes(dir.resolve("web-1.tar.gz"));
    assertThat(download(agent, b, job.getDigest())).isEqualTo(pushed);
    assertThat(b.data.resolve("artifacts/sha256/" + job.getDigest())).as("b keeps its copy").exists();

    // A copy that does not match its digest is refused, and not kept.
    try (Connection c = java.sql.DriverManager.getConnection(database.url());
        Statement s = c.createStatement()) {
      s.executeUpdate("UPDATE artifact_chunks SET bytes = '\\x00'::bytea || bytes WHERE seq = 0");
    }
    TestController c = another("c", a);
    assertThatThrownBy(() -> download(agent, c, job.getDigest())).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(c.data.resolve("artifacts/sha256/" + job.getDigest())).doesNotExist();
  }

  @Test
  void anAdminCallToANodeThatDoesNotLeadIsPassedOnToTheLeaderAndJudgedAsTheAdminsOwn() throws Exception {
    TestController a = first("a");
    TestController b = another("b", a);
    RawAgent.Stream onB = agent("h1", "r1", a, b);
    await("b knows who leads").atMost(10, TimeUnit.SECONDS).until(() -> !b.leading());

    // A push streamed through b, a deployment started through b, and its watch streamed back through b.
    b.push(dir.resolve("web-1.tar.gz"));
    DeploymentRecord d = deploy(b, "rack=r1");
    java.util.Iterator<DeploymentRecord> changes = io.rackroll.proto.v1.AdminGrpc.newBlockingStub(b.admin().getChannel())
        .withDeadlineAfter(20, TimeUnit.SECONDS).watchDeployment(GetDeploymentRequest.newBuilder().setId(d.getId()).build());
    assertThat(changes.next().getState()).isEqualTo("running");
    WireFleet.activate(onB);
    DeploymentRecord last = null;
    while (changes.hasNext()) {
      last = changes.next();
    }
    assertThat(last.getState()).isEqualTo("completed");
    assertThat(a.admin().listAudit(ListAuditRequest.getDefaultInstance()).getEntriesList())
        .filteredOn(e -> e.getAction().equals("deploy")).extracting(AuditRecord::getActor).containsExactly("admin");

    // A viewer's call is refused for its role, on the leader, whichever node it was made to.
    var viewer = b.addAdmin("vic", "viewer");
    assertThatThrownBy(() -> viewer.deploy(DeployRequest.newBuilder().setName("web").setVersion("1").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    // An admin cannot claim to be passing someone else's call on: only a controller node's certificate can.
    var forged = io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(forwardedFor(a.pki.ca(), "owner2"));
    DeploymentRecord own = viewer.withInterceptors(forged).getDeployment(GetDeploymentRequest.newBuilder()
        .setId(d.getId()).build());
    assertThat(own.getId()).as("a read the viewer may make, made as the viewer").isEqualTo(d.getId());
    assertThatThrownBy(() -> viewer.withInterceptors(forged).deploy(DeployRequest.newBuilder().setName("web")
        .setVersion("1").build())).isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getDescription()).startsWith("admin vic (viewer) may not call Deploy"));
  }

  /** The header a controller node passes an admin's call on with, naming a certificate issued to {@code admin}. */
  private static io.grpc.Metadata forwardedFor(io.rackroll.controller.pki.CertificateAuthority ca, String admin)
      throws Exception {
    java.security.KeyPair pair = io.rackroll.trust.Keys.newKeyPair();
    java.security.cert.X509Certificate cert = ca.issueClient(io.rackroll.trust.PeerIdentity.admin(admin),
        pair.getPublic(), java.time.Duration.ofDays(1));
    io.grpc.Metadata m = new io.grpc.Metadata();
    m.put(io.rackroll.controller.auth.CallerInterceptor.FORWARDED_FOR,
        java.util.Base64.getEncoder().encodeToString(cert.getEncoded()));
    return m;
  }

  /** A statement as the database's superuser, from outside every node. */
  private void asDatabaseAdmin(String sql) throws Exception {
    try (Connection c = java.sql.DriverManager.getConnection(database.url()); Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  @Test
  void aLeaderCutOffFromTheDatabaseStopsBeforeAnotherLeadsAndComesBackAsAFollower() throws Exception {
    String dbName = database.url().replaceAll(".*/([^/?]+)\\?.*", "$1");
    asDatabaseAdmin("CREATE ROLE node_a LOGIN SUPERUSER");
    TestController a = first("a", Database.of(postgres.getJdbcUrl("node_a", dbName), "", ""));
    TestController b = another("b", a);
    RawAgent.Stream onB = agent("h1", "r1", a, b);
    DeploymentRecord d = deploy(a, "rack=r1");
    Deploy job = WireFleet.command(onB);

    // a's sessions killed and its role barred from coming back: as a partition would.
    asDatabaseAdmin("ALTER ROLE node_a NOLOGIN");
    asDatabaseAdmin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'node_a'");
    await("a stops running rollouts").atMost(30, TimeUnit.SECONDS).until(() -> !a.leading());
    assertThat(b.leading()).as("b takes over only once a's lease lapsed, after a stopped").isFalse();
    await("b leads").atMost(30, TimeUnit.SECONDS).until(b::leading);

    // The new leader sends the host in flight its command again; the rollout ends under b.
    assertThat(WireFleet.command(onB).getDeploymentId()).isEqualTo(job.getDeploymentId());
    WireFleet.report(onB, job, "ACTIVE");
    awaitCompleted(b, d);

    // a reaches the database again: it finds b's lease and stays a follower.
    asDatabaseAdmin("ALTER ROLE node_a LOGIN");
    await("a answers again, through b").atMost(30, TimeUnit.SECONDS).ignoreExceptions().untilAsserted(() ->
        assertThat(a.admin().getStatus(io.rackroll.proto.v1.GetStatusRequest.getDefaultInstance()).getNodesList())
            .filteredOn(io.rackroll.proto.v1.ControllerNode::getLeads).extracting(io.rackroll.proto.v1.ControllerNode::getName)
            .containsExactly("b"));
    assertThat(a.leading()).isFalse();
  }

  @Test
  void aRevocationMadeOnTheLeaderEndsTheAgentsStreamOnAnotherNodeAndSecretsFollowTheLead() throws Exception {
    TestController a = first("a");
    TestController b = another("b", a);
    RawAgent.Stream h1 = agent("h1", "r1", a, b);
    RawAgent.Stream h2 = agent("h2", "r2", a, b);
    a.admin().applyEnvironments(io.rackroll.proto.v1.ApplyEnvironmentsRequest.newBuilder().setYaml(
        "environments:\n  production:\n    selector: rack=r2\n    variables: {log.level: info}\n").build());
    a.admin().setSecret(io.rackroll.proto.v1.SetSecretRequest.newBuilder().setEnvironment("production")
        .setName("db.password").setValue("s3cret").build());

    a.admin().revokeAgent(io.rackroll.proto.v1.RevokeAgentRequest.newBuilder().setAgentId("h1").build());
    Status ended = h1.closed.get(10, TimeUnit.SECONDS);
    assertThat(ended.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(ended.getDescription()).startsWith(io.rackroll.trust.PeerIdentity.REVOKED);

    // b leads next, with the environments and the secret a's owner set.
    a.stopServer();
    await("b leads").atMost(10, TimeUnit.SECONDS).until(b::leading);
    DeploymentRecord d = deploy(b, "rack=r2");
    Deploy job = WireFleet.command(h2);
    assertThat(job.getEnvironment()).isEqualTo("production");
    assertThat(job.getVariablesMap()).containsEntry("log.level", "info").containsEntry("db.password", "s3cret");
    WireFleet.report(h2, job, "ACTIVE");
    awaitCompleted(b, d);
  }

  @Test
  void whenTheLeaderStopsAnotherNodeTakesOverAndTheRolloutCompletesEveryHostChangedOnce() throws Exception {
    TestController a = first("a");
    TestController b = another("b", a);
    RawAgent.Stream h1 = agent("h1", "r1", a, b);
    RawAgent.Stream h2 = agent("h2", "r2", a, b);
    DeploymentRecord d = deploy(a, "");
    DeploymentHost firstHost = d.getHostsList().stream().filter(h -> h.getBatch() == 0).findFirst().orElseThrow();
    RawAgent.Stream first = firstHost.getAgentId().equals("h1") ? h1 : h2;
    RawAgent.Stream second = first == h1 ? h2 : h1;
    Deploy job = WireFleet.command(first);
    WireFleet.report(first, job, "INSTALLING");

    a.stopServer(); // lets the lease go: b takes over at its next beat
    await("b leads").atMost(10, TimeUnit.SECONDS).until(b::leading);

    // The new leader sends the host in flight its command again (the agent recognises it and
    // reports the job it runs instead of running it twice); the rollout goes on from the store.
    Deploy again = WireFleet.command(first);
    assertThat(again.getDeploymentId()).isEqualTo(job.getDeploymentId());
    WireFleet.report(first, job, "ACTIVE");
    Deploy next = WireFleet.command(second);
    assertThat(next.getDeploymentId()).isEqualTo(d.getId());
    WireFleet.report(second, next, "ACTIVE");

    awaitCompleted(b, d);
    assertThat(deployment(b, d.getId()).getHostsList()).extracting(DeploymentHost::getPhase)
        .containsOnly("ACTIVE");
    assertThat(b.admin().listAudit(ListAuditRequest.getDefaultInstance()).getEntriesList())
        .extracting(AuditRecord::getAction, AuditRecord::getTarget)
        .contains(org.assertj.core.groups.Tuple.tuple("node leads", "a"), org.assertj.core.groups.Tuple.tuple("node leads", "b"));
  }
}
