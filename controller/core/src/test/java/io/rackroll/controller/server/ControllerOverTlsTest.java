package io.rackroll.controller.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rackroll.controller.pki.CertificateAuthority;
import io.rackroll.controller.testing.RawAgent;
import io.rackroll.controller.testing.TestController;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.AgentRecord;
import io.rackroll.proto.v1.ControllerMessage;
import io.rackroll.proto.v1.EnrollResponse;
import io.rackroll.proto.v1.GetAgentRequest;
import io.rackroll.proto.v1.ListAgentsRequest;
import io.rackroll.proto.v1.PingAgentRequest;
import io.rackroll.trust.BootstrapToken;
import io.rackroll.trust.Keys;
import io.rackroll.trust.MutualTls;
import io.rackroll.trust.PeerIdentity;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The controller's security and fleet bookkeeping, over real loopback sockets and real TLS 1.3. */
class ControllerOverTlsTest {
  @TempDir Path data;
  private TestController controller;

  @BeforeEach
  void start() throws Exception {
    controller = TestController.start(data);
  }

  @AfterEach
  void stop() {
    controller.close();
  }

  @Test
  void enrollmentIssuesACertificateNamingTheAgentWithTheTokensLabels() throws Exception {
    String token = controller.token(Map.of("rack", "r1", "role", "web"), 1);
    RawAgent agent = new RawAgent("ag-enroll1");

    EnrollResponse r = agent.enroll(controller, token);

    assertThat(r.getAgentId()).isEqualTo("ag-enroll1");
    assertThat(r.getLabelsMap()).isEqualTo(Map.of("rack", "r1", "role", "web"));
    agent.certificate.verify(controller.pki.ca().certificate().getPublicKey());
    assertThat(PeerIdentity.of(agent.certificate)).contains(PeerIdentity.agent("ag-enroll1"));
    assertThat(agent.certificate.getPublicKey()).isEqualTo(agent.key.getPublic());
    AgentRecord stored = controller.admin().getAgent(GetAgentRequest.newBuilder().setAgentId("ag-enroll1").build());
    assertThat(stored.getState()).isEqualTo("enrolled");
    assertThat(stored.getLabelsMap()).isEqualTo(Map.of("rack", "r1", "role", "web"));
    assertThat(stored.getCertificateSerial()).isEqualTo(agent.certificate.getSerialNumber().toString(16));
  }

  @Test
  void expiredTokenIsRefused() {
    String token = controller.token(Map.of("rack", "r1"), 1);
    controller.clock.advance(Duration.ofHours(2)); // default TTL is one hour

    assertThatThrownBy(() -> new RawAgent("ag-late").enroll(controller, token))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).contains("expired").contains("rackroll token create");
        });
    assertThat(controller.admin().listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList()).isEmpty();
  }

  @Test
  void singleUseTokenCannotBeReused() throws Exception {
    String token = controller.token(Map.of("rack", "r1"), 1);
    new RawAgent("ag-first").enroll(controller, token);

    assertThatThrownBy(() -> new RawAgent("ag-second").enroll(controller, token))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).contains("already been used");
        });
  }

  @Test
  void tokenWithAForgedSecretIsRefused() {
    BootstrapToken real = BootstrapToken.parse(controller.token(Map.of(), 5));
    String forged = new BootstrapToken(real.id(), "A".repeat(32), real.caFingerprint()).text();
    assertThatThrownBy(() -> new RawAgent("ag-forger").enroll(controller, forged))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getDescription()).contains("is not known to this controller"));
  }

  @Test
  void enrollingHostRefusesAControllerWhoseCaIsNotTheTokens() {
    BootstrapToken real = BootstrapToken.parse(controller.token(Map.of(), 1));
    CertificateAuthority other = CertificateAuthority.create(Clock.systemUTC(), Duration.ofDays(1));
    String pinnedElsewhere = new BootstrapToken(real.id(), real.secret(), Keys.fingerprint(other.certificate())).text();
    assertThatThrownBy(() -> new RawAgent("ag-phished").enroll(controller, pinnedElsewhere))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void clientCertificateFromAnotherCaFailsTheHandshake() {
    CertificateAuthority other = CertificateAuthority.create(Clock.systemUTC(), Duration.ofDays(1));
    KeyPair pair = Keys.newKeyPair();
    X509Certificate impostor = other.issueClient(PeerIdentity.admin("admin"), pair.getPublic(), Duration.ofDays(1));
    AdminGrpc.AdminBlockingStub stub = AdminGrpc.newBlockingStub(controller.channel(
        MutualTls.client(pair.getPrivate(), List.of(impostor), controller.pki.trusted())))
        .withDeadlineAfter(10, TimeUnit.SECONDS);

    assertThatThrownBy(() -> stub.listAgents(ListAgentsRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getCause()).as("a TLS failure, not a refusal after the handshake").isNotNull();
        });
    // The controller still serves its real admin.
    assertThat(controller.admin().listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsCount()).isZero();
  }

  @Test
  void agentCertificateCannotCallAdminMethods() throws Exception {
    RawAgent agent = new RawAgent("ag-sneaky");
    agent.enroll(controller, controller.token(Map.of(), 1));
    AdminGrpc.AdminBlockingStub asAgent = AdminGrpc.newBlockingStub(agent.channel(controller))
        .withDeadlineAfter(10, TimeUnit.SECONDS);

    assertThatThrownBy(() -> asAgent.listAgents(ListAgentsRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).isEqualTo(
              "agent ag-sneaky may not call rackroll.v1.Admin/ListAgents (expected: a certificate of role admin)");
        });
  }

  @Test
  void callsWithoutAClientCertificateAreRefusedExceptEnrollment() {
    String token = controller.token(Map.of(), 1);
    AdminGrpc.AdminBlockingStub anonymous = AdminGrpc.newBlockingStub(controller.channel(
        MutualTls.pinned(BootstrapToken.parse(token).caFingerprint()))).withDeadlineAfter(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> anonymous.listAgents(ListAgentsRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
  }

  @Test
  void onlyTls13IsSpoken() throws Exception {
    SSLContext tls12 = SSLContext.getInstance("TLSv1.2");
    tls12.init(null, new TrustManager[] {new TrustEverything()}, null);
    try (SSLSocket socket = (SSLSocket) tls12.getSocketFactory().createSocket("127.0.0.1", controller.address().port())) {
      socket.setEnabledProtocols(new String[] {"TLSv1.2"});
      socket.setSoTimeout(10_000);
      assertThatThrownBy(socket::startHandshake).isInstanceOf(javax.net.ssl.SSLException.class);
    }
  }

  @Test
  void streamClaimingAnotherAgentsIdIsRefused() throws Exception {
    RawAgent mallory = new RawAgent("ag-mallory");
    mallory.enroll(controller, controller.token(Map.of(), 1));

    RawAgent.Stream s = mallory.connect(controller, "ag-victim", RawAgent.facts("h", "unknown"));

    Status closed = s.closed.get(10, TimeUnit.SECONDS);
    assertThat(closed.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(closed.getDescription()).contains("agent ag-mallory cannot speak for agent ag-victim");
    assertThat(s.received).isEmpty();
  }

  @Test
  void certificateForAnAgentTheStoreDoesNotKnowIsRefused() throws Exception {
    // A certificate from this CA for an id that never enrolled here (say, the store was restored from an old backup).
    RawAgent ghost = new RawAgent("ag-ghost");
    ghost.certificate = controller.pki.ca().issueClient(PeerIdentity.agent("ag-ghost"), ghost.key.getPublic(), Duration.ofDays(1));
    ghost.ca = controller.pki.trusted();

    Status closed = ghost.connect(controller).closed.get(10, TimeUnit.SECONDS);
    assertThat(closed.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(closed.getDescription()).contains("not enrolled with this controller; re-enroll it with a new token");
  }

  @Test
  void helloConnectsPingRoundTripsAndHangingUpDisconnects() throws Exception {
    RawAgent agent = new RawAgent("ag-live");
    agent.enroll(controller, controller.token(Map.of("rack", "r2"), 1));

    RawAgent.Stream s = agent.connect(controller, "ag-live", RawAgent.facts("r2-s01", "SN-77"));
    ControllerMessage welcome = s.next();
    assertThat(welcome.hasWelcome()).isTrue();
    assertThat(welcome.getWelcome().getHeartbeatIntervalMillis()).isEqualTo(200);
    assertThat(welcome.getWelcome().getLabelsMap()).isEqualTo(Map.of("rack", "r2"));

    AgentRecord connected = agent("ag-live");
    assertThat(connected.getState()).isEqualTo("connected");
    assertThat(connected.getFacts().getHostname()).isEqualTo("r2-s01");
    assertThat(connected.getFacts().getSystem().getSerial()).isEqualTo("SN-77");
    assertThat(connected.getAgentVersion()).isEqualTo("test");

    long micros = controller.admin().pingAgent(PingAgentRequest.newBuilder().setAgentId("ag-live").build()).getRoundTripMicros();
    assertThat(micros).isPositive();
    assertThat(s.next().getCommand().hasPing()).as("the ping travelled down the stream").isTrue();

    s.hangUp();
    await("ag-live disconnected").atMost(Duration.ofSeconds(10)).until(() -> agent("ag-live").getState().equals("disconnected"));
    assertThatThrownBy(() -> controller.admin().pingAgent(PingAgentRequest.newBuilder().setAgentId("ag-live").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).isEqualTo("agent ag-live is not connected");
        });
  }

  @Test
  void silentAgentTurnsStaleAndRecoversOnHeartbeat() throws Exception {
    RawAgent agent = new RawAgent("ag-quiet");
    agent.enroll(controller, controller.token(Map.of(), 1));
    RawAgent.Stream s = agent.connect(controller);
    s.next(); // welcome

    controller.clock.advance(Duration.ofSeconds(3)); // past staleAfter (2 s) with no heartbeat
    await("ag-quiet stale").atMost(Duration.ofSeconds(10)).until(() -> agent("ag-quiet").getState().equals("stale"));

    s.heartbeat();
    await("ag-quiet connected again").atMost(Duration.ofSeconds(10)).until(() -> agent("ag-quiet").getState().equals("connected"));
  }

  @Test
  void duplicateSystemSerialsAreFlagged() throws Exception {
    String token = controller.token(Map.of(), 3);
    for (String id : List.of("ag-clone1", "ag-clone2", "ag-other")) {
      RawAgent a = new RawAgent(id);
      a.enroll(controller, token);
      a.connect(controller, id, RawAgent.facts("h-" + id, id.equals("ag-other") ? "SN-2" : "SN-1")).next();
    }
    assertThat(agent("ag-clone1").getWarningsList()).singleElement().asString()
        .contains("system serial SN-1 is also reported by ag-clone2");
    assertThat(agent("ag-other").getWarningsList()).isEmpty();
  }

  @Test
  void unknownSerialsAreNeverFlagged() throws Exception {
    String token = controller.token(Map.of(), 2);
    for (String id : List.of("ag-vm1", "ag-vm2")) {
      RawAgent a = new RawAgent(id);
      a.enroll(controller, token);
      a.connect(controller, id, RawAgent.facts("h", "unknown")).next();
    }
    assertThat(agent("ag-vm1").getWarningsList()).isEmpty();
  }

  @Test
  void selectorFiltersTheFleetAndBadSelectorsSayWhere() throws Exception {
    new RawAgent("ag-web1").enroll(controller, controller.token(Map.of("rack", "r1", "role", "web"), 1));
    new RawAgent("ag-db1").enroll(controller, controller.token(Map.of("rack", "r2", "role", "db"), 1));

    assertThat(controller.admin().listAgents(ListAgentsRequest.newBuilder().setSelector("role=web").build())
        .getAgentsList()).extracting(AgentRecord::getAgentId).containsExactly("ag-web1");
    assertThat(controller.admin().listAgents(ListAgentsRequest.newBuilder().setSelector("rack in (r1,r2),role!=web").build())
        .getAgentsList()).extracting(AgentRecord::getAgentId).containsExactly("ag-db1");
    assertThatThrownBy(() -> controller.admin().listAgents(ListAgentsRequest.newBuilder().setSelector("rack in r1").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).startsWith("selector \"rack in r1\" at column 9");
        });
  }

  @Test
  void aSecondControllerOnTheSameDataDirectoryIsRefused() {
    ControllerServer second = new ControllerServer(data, ControllerConfig.defaults()
        .withListen(new io.rackroll.wire.HostPort("127.0.0.1", 0)), Clock.systemUTC());
    try {
      assertThatThrownBy(second::start).hasMessageContaining("another controller is already running with data directory");
    } finally {
      second.close();
    }
  }

  private AgentRecord agent(String id) {
    return controller.admin().getAgent(GetAgentRequest.newBuilder().setAgentId(id).build());
  }

  /** Only for the protocol-version probe: the handshake must fail before any certificate matters. */
  private static final class TrustEverything implements X509TrustManager {
    @Override public void checkClientTrusted(X509Certificate[] c, String a) { }
    @Override public void checkServerTrusted(X509Certificate[] c, String a) { }
    @Override public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
