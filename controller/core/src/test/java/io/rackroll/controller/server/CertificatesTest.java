package io.rackroll.controller.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rackroll.controller.auth.Revocations;
import io.rackroll.controller.testing.RawAgent;
import io.rackroll.controller.testing.TestController;
import io.rackroll.proto.v1.AgentLinkGrpc;
import io.rackroll.proto.v1.AgentRecord;
import io.rackroll.proto.v1.CreateTokenRequest;
import io.rackroll.proto.v1.GetAgentRequest;
import io.rackroll.proto.v1.ListAuditRequest;
import io.rackroll.proto.v1.RenewRequest;
import io.rackroll.proto.v1.RenewResponse;
import io.rackroll.proto.v1.RevokeAgentRequest;
import io.rackroll.proto.v1.RevokeAgentResponse;
import io.rackroll.trust.Pem;
import io.rackroll.trust.PeerIdentity;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Renewal and revocation of agent certificates, over real TLS against a real controller. */
class CertificatesTest {
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

  private AgentRecord stored(String id) {
    return controller.admin().getAgent(GetAgentRequest.newBuilder().setAgentId(id).build());
  }

  /** An agent enrolled with its own token and welcomed on its stream. */
  private RawAgent.Stream enrolledAndConnected(RawAgent agent, Map<String, String> labels) throws Exception {
    agent.enroll(controller, controller.token(labels, 1));
    RawAgent.Stream stream = agent.connect(controller);
    assertThat(stream.next().hasWelcome()).isTrue();
    return stream;
  }

  private RenewResponse renew(RawAgent agent) {
    return AgentLinkGrpc.newBlockingStub(agent.channel(controller)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .renew(RenewRequest.getDefaultInstance());
  }

  /** Renews {@code agent}'s certificate and keeps the new one, as the agent does. */
  private X509Certificate renewed(RawAgent agent) {
    agent.certificate = Pem.certificates(renew(agent).getCertificatePem()).get(0);
    return agent.certificate;
  }

  @Test
  void renewalIssuesANewCertificateForTheSameKeyWhileTheStreamStaysOpen() throws Exception {
    RawAgent agent = new RawAgent("ag-renew1");
    RawAgent.Stream stream = enrolledAndConnected(agent, Map.of("rack", "r1"));
    X509Certificate old = agent.certificate;

    RenewResponse r = renew(agent);

    X509Certificate renewed = Pem.certificates(r.getCertificatePem()).get(0);
    renewed.verify(controller.pki.ca().certificate().getPublicKey());
    assertThat(renewed.getPublicKey()).isEqualTo(agent.key.getPublic());
    assertThat(renewed.getSerialNumber()).isNotEqualTo(old.getSerialNumber());
    assertThat(PeerIdentity.of(renewed)).contains(PeerIdentity.agent("ag-renew1"));
    assertThat(Pem.certificates(r.getTrustBundlePem())).containsExactly(controller.pki.ca().certificate());
    assertThat(stored("ag-renew1").getCertificateSerial()).isEqualTo(renewed.getSerialNumber().toString(16));

    // The open stream is untouched, and the renewed certificate opens new ones.
    stream.heartbeat();
    assertThat(stream.closed).isNotDone();
    agent.certificate = renewed;
    RawAgent.Stream second = agent.connect(controller);
    assertThat(second.next().hasWelcome()).isTrue();
    assertThat(stream.closed.get(10, TimeUnit.SECONDS).getDescription()).contains("replaced by a newer connection");
  }

  @Test
  void aCertificateTwoRenewalsOldCannotRenewAgain() throws Exception {
    RawAgent agent = new RawAgent("ag-renew2");
    agent.enroll(controller, controller.token(Map.of(), 1));
    X509Certificate first = agent.certificate;
    renewed(agent);
    renewed(agent);

    agent.certificate = first;
    assertThatThrownBy(() -> renew(agent)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(e.getStatus().getDescription()).contains("cannot be renewed").contains("new token");
    });
  }

  @Test
  void revocationEndsTheStreamAtOnceAndRefusesTheCertificateAcrossRestarts() throws Exception {
    RawAgent agent = new RawAgent("ag-revoke1");
    RawAgent.Stream stream = enrolledAndConnected(agent, Map.of("rack", "r2"));

    RevokeAgentResponse r = controller.admin().revokeAgent(RevokeAgentRequest.newBuilder()
        .setAgentId("ag-revoke1").setReason("disk sent for destruction").build());

    assertThat(r.getWasConnected()).isTrue();
    assertThat(r.getSerialsList()).containsExactly(agent.certificate.getSerialNumber().toString(16));
    Status ended = stream.closed.get(10, TimeUnit.SECONDS);
    assertThat(ended.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(ended.getDescription()).startsWith(PeerIdentity.REVOKED).contains("new token");
    assertThat(stored("ag-revoke1").getState()).isEqualTo("revoked");
    assertThat(controller.admin().listAudit(ListAuditRequest.getDefaultInstance()).getEntriesList())
        .anySatisfy(e -> {
          assertThat(e.getAction()).isEqualTo("agent revoke");
          assertThat(e.getDetail()).contains("disk sent for destruction");
        });
    assertRefused(agent);

    controller = controller.restart();

    assertRefused(agent);
    assertThat(stored("ag-revoke1").getState()).isEqualTo("revoked");

    // Only the admin's word brings the id back: a token made for it, used by a host with a new key.
    RawAgent reinstalled = new RawAgent("reinstalled");
    reinstalled.enroll(controller, replacing("ag-revoke1"));
    assertThat(reinstalled.id).isEqualTo("ag-revoke1");
    RawAgent.Stream back = reinstalled.connect(controller);
    assertThat(back.next().hasWelcome()).isTrue();
    assertRefused(agent);
  }

  private String replacing(String agentId) {
    return controller.admin().createToken(CreateTokenRequest.newBuilder().setReplaces(agentId).build()).getToken();
  }

  @Test
  void revocationRefusesEveryCertificateEverIssuedToTheAgentNotOnlyTheLastTwo() throws Exception {
    RawAgent agent = new RawAgent("ag-revoke2");
    agent.enroll(controller, controller.token(Map.of(), 1));
    X509Certificate first = agent.certificate;
    X509Certificate second = renewed(agent);
    renewed(agent);

    RevokeAgentResponse r = controller.admin().revokeAgent(RevokeAgentRequest.newBuilder().setAgentId("ag-revoke2").build());

    assertThat(r.getSerialsList()).containsExactlyInAnyOrder(Revocations.serial(first), Revocations.serial(second),
        Revocations.serial(agent.certificate));
    controller = controller.restart();
    for (X509Certificate c : java.util.List.of(first, second, agent.certificate)) {
      agent.certificate = c;
      assertRefused(agent);
      assertThat(agent.connect(controller).closed.get(10, TimeUnit.SECONDS).getCode())
          .isEqualTo(Status.Code.PERMISSION_DENIED);
    }
  }

  @Test
  void aTokenHolderCannotTakeOverAnExistingAgentsIdentity() throws Exception {
    try (TestController assigning = TestController.startAssigningIds(data.resolve("assigning"))) {
      RawAgent victim = new RawAgent("web-01");
      victim.enroll(assigning, assigning.token(Map.of("rack", "r1"), 1));
      assertThat(victim.id).as("the controller names agents").matches("ag-[a-z2-9]{12}");

      // The attacker's request asks for the victim's id; it gets an id of its own, and the victim is untouched.
      RawAgent attacker = new RawAgent(victim.id);
      attacker.enroll(assigning, assigning.token(Map.of("rack", "r9"), 1));

      assertThat(attacker.id).isNotEqualTo(victim.id).matches("ag-[a-z2-9]{12}");
      AgentRecord stored = assigning.admin().getAgent(GetAgentRequest.newBuilder().setAgentId(victim.id).build());
      assertThat(stored.getLabelsMap()).isEqualTo(Map.of("rack", "r1"));
      assertThat(stored.getCertificateSerial()).isEqualTo(Revocations.serial(victim.certificate));
      AgentLinkGrpc.newBlockingStub(victim.channel(assigning)).withDeadlineAfter(10, TimeUnit.SECONDS)
          .renew(RenewRequest.getDefaultInstance());
      // Every enrollment is audited with the token it used.
      assertThat(assigning.admin().listAudit(ListAuditRequest.getDefaultInstance()).getEntriesList())
          .filteredOn(e -> e.getAction().equals("agent enroll")).extracting(e -> e.getTarget())
          .containsExactlyInAnyOrder(victim.id, attacker.id);
    }
  }

  @Test
  void aReplacedHostIsRefusedWithEveryCertificateItHadAndItsStreamEnds() throws Exception {
    RawAgent old = new RawAgent("ag-rack7-s3");
    RawAgent.Stream oldStream = enrolledAndConnected(old, Map.of("rack", "r7"));
    X509Certificate first = old.certificate;
    renewed(old);

    RawAgent replacement = new RawAgent("new-hardware");
    replacement.enroll(controller, replacing("ag-rack7-s3"));

    assertThat(replacement.id).isEqualTo("ag-rack7-s3");
    assertThat(stored("ag-rack7-s3").getLabelsMap()).as("the agent's labels by default").isEqualTo(Map.of("rack", "r7"));
    assertThat(oldStream.closed.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertRefused(old);
    old.certificate = first;
    assertRefused(old);
    RawAgent.Stream fresh = replacement.connect(controller);
    assertThat(fresh.next().hasWelcome()).isTrue();
    assertThat(controller.admin().listAudit(ListAuditRequest.getDefaultInstance()).getEntriesList())
        .anySatisfy(e -> {
          assertThat(e.getAction()).isEqualTo("agent replace");
          assertThat(e.getTarget()).isEqualTo("ag-rack7-s3");
        });
    // A replacement token is for one host, and only for an agent that exists.
    assertThatThrownBy(() -> controller.admin().createToken(CreateTokenRequest.newBuilder().setReplaces("ag-rack7-s3")
        .setUses(2).build())).hasMessageContaining("expected: 1");
    assertThatThrownBy(() -> replacing("ag-nobody")).hasMessageContaining("no agent ag-nobody");
  }

  private void assertRefused(RawAgent agent) {
    assertThatThrownBy(() -> renew(agent)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(e.getStatus().getDescription()).startsWith(PeerIdentity.REVOKED);
    });
  }

  @Test
  void revokingAnUnknownAgentSaysSo() {
    assertThatThrownBy(() -> controller.admin().revokeAgent(RevokeAgentRequest.newBuilder().setAgentId("ag-nobody").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).isEqualTo("no agent ag-nobody (see 'rackroll agents')");
        });
  }
}
