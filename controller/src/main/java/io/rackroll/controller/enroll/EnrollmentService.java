package io.rackroll.controller.enroll;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.rackroll.controller.auth.Revocations;
import io.rackroll.controller.pki.CertificateAuthority;
import io.rackroll.controller.store.Enrollment;
import io.rackroll.controller.store.Store;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.proto.v1.EnrollRequest;
import io.rackroll.proto.v1.EnrollResponse;
import io.rackroll.proto.v1.EnrollmentGrpc;
import io.rackroll.proto.v1.RenewResponse;
import io.rackroll.trust.BootstrapToken;
import io.rackroll.trust.Keys;
import io.rackroll.trust.PeerIdentity;
import io.rackroll.trust.Pem;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trades a bootstrap token and a CSR for an agent certificate. The agent chooses its id (the CN
 * of its request) and proves it holds the key; the token decides its labels; the CA decides
 * everything else written into the certificate.
 */
public final class EnrollmentService extends EnrollmentGrpc.EnrollmentImplBase {
  private static final Logger log = LoggerFactory.getLogger(EnrollmentService.class);

  private final Tokens tokens;
  private final CertificateAuthority ca;
  private final Store store;
  private final Clock clock;
  private final Duration certificateLifetime;
  private final String trustBundlePem;

  public EnrollmentService(Tokens tokens, CertificateAuthority ca, List<X509Certificate> trustBundle, Store store,
      Clock clock, Duration certificateLifetime) {
    this.tokens = tokens;
    this.ca = ca;
    this.store = store;
    this.clock = clock;
    this.certificateLifetime = certificateLifetime;
    this.trustBundlePem = Pem.encode(trustBundle.toArray(X509Certificate[]::new));
  }

  /**
   * A new certificate for the key in {@code presented}, which the TLS handshake has proved the
   * caller holds. Renewal keeps the key: the certificate is one file the agent replaces
   * atomically, so a crash can never leave it with a certificate for a key it does not have.
   * To change the key, enroll again.
   */
  public RenewResponse renew(PeerIdentity caller, X509Certificate presented) {
    X509Certificate cert = ca.issueClient(caller, presented.getPublicKey(), certificateLifetime);
    String from = Revocations.serial(presented);
    String to = Revocations.serial(cert);
    if (!store.renewed(caller.name(), from, to, cert.getNotAfter().toInstant(), Keys.fingerprint(ca.certificate()))) {
      log.atWarn().addKeyValue(ServiceLogging.AGENT, caller.name())
          .log("{} asked to renew certificate {}, which is neither its current nor its previous one, or it is revoked:"
          + " refused", caller, from);
      throw Status.PERMISSION_DENIED.withDescription("certificate " + from + " of " + caller
          + " cannot be renewed (revoked or replaced); enroll the host again with a new token").asRuntimeException();
    }
    log.atInfo().addKeyValue(ServiceLogging.AGENT, caller.name())
        .log("agent {} renewed its certificate: {} -> {}, valid until {}", caller.name(), from, to,
            cert.getNotAfter().toInstant());
    return RenewResponse.newBuilder().setCertificatePem(Pem.encode(cert)).setTrustBundlePem(trustBundlePem).build();
  }

  public String trustBundlePem() {
    return trustBundlePem;
  }

  @Override
  public void enroll(EnrollRequest request, StreamObserver<EnrollResponse> response) {
    BootstrapToken token;
    String agentId;
    PublicKey key;
    try {
      token = BootstrapToken.parse(request.getToken());
      agentId = CertificateAuthority.requestedName(request.getCsrDer().toByteArray());
      PeerIdentity.checkName(agentId);
      key = CertificateAuthority.verifiedRequestKey(request.getCsrDer().toByteArray());
    } catch (IllegalArgumentException e) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    Map<String, String> labels;
    try {
      labels = tokens.redeem(token);
    } catch (Tokens.TokenRefusedException e) {
      log.atWarn().addKeyValue(ServiceLogging.AGENT, agentId)
          .log("enrollment of agent {} refused: {}", agentId, e.getMessage());
      response.onError(Status.PERMISSION_DENIED.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    X509Certificate cert = ca.issueClient(PeerIdentity.agent(agentId), key, certificateLifetime);
    store.enroll(new Enrollment(agentId, labels, token.id(), Revocations.serial(cert),
        cert.getNotAfter().toInstant(), Keys.fingerprint(ca.certificate()), clock.instant()));
    log.atInfo().addKeyValue(ServiceLogging.AGENT, agentId)
        .log("agent {} enrolled with {}, labels {}, certificate {} valid until {}", agentId, token, labels,
            Revocations.serial(cert), cert.getNotAfter().toInstant());
    response.onNext(EnrollResponse.newBuilder()
        .setAgentId(agentId)
        .setCertificatePem(Pem.encode(cert))
        .setCaPem(trustBundlePem)
        .putAllLabels(labels)
        .build());
    response.onCompleted();
  }
}
