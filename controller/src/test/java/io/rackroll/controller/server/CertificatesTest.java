package io.rackroll.controller.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rackroll.controller.testing.RawAgent;
import io.rackroll.controller.testing.TestController;
import io.rackroll.proto.v1.AgentLinkGrpc;
import io.rackroll.proto.v1.AgentRecord;
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
    agent.certificate = Pem.certificates(renew(agent).getCertificatePem()).get(0);
    agent.certificate = Pem.certificates(renew(agent).getCertificatePem()).get(0);

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

    // Only a new token brings the host back, with a new key and certificate.
    enrolledAndConnected(new RawAgent("ag-revoke1"), Map.of("rack", "r2"));
    assertRefused(agent);
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
          assertThat(e.getStatus().getDescription()).contains("rackroll agents list");
        });
  }
}
