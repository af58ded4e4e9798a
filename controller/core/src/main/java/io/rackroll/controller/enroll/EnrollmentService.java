package io.rackroll.controller.enroll;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.rackroll.controller.auth.Revocations;
import io.rackroll.controller.pki.CertificateAuthority;
import io.rackroll.controller.pki.IssuedCertificates;
import io.rackroll.controller.fleet.AgentRegistry;
import io.rackroll.controller.store.AuditEntry;
import io.rackroll.controller.store.Enrollment;
import io.rackroll.controller.store.Redemption;
import io.rackroll.controller.store.AuditStore;
import io.rackroll.controller.store.EnrollmentStore;
import io.rackroll.controller.store.StoreException;
import io.rackroll.logging.ServiceLogging;
import io.rackroll.proto.v1.EnrollRequest;
import io.rackroll.proto.v1.EnrollResponse;
import io.rackroll.proto.v1.EnrollmentGrpc;
import io.rackroll.proto.v1.RenewResponse;
import io.rackroll.trust.BootstrapToken;
import io.rackroll.trust.Keys;
import io.rackroll.trust.PeerIdentity;
import io.rackroll.trust.Pem;
import io.rackroll.wire.Ids;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trades a bootstrap token and a CSR for an agent certificate. The CSR proves the host holds its
 * key, and nothing else in it counts: the controller assigns the agent id (a new one, or the agent
 * a token made with {@code token create --replaces} names), the token decides the labels, and the
 * CA everything else written into the certificate. Every enrollment is audited with its token.
 */
public final class EnrollmentService extends EnrollmentGrpc.EnrollmentImplBase {
  private static final Logger log = LoggerFactory.getLogger(EnrollmentService.class);

  private final Tokens tokens;
  private final CertificateAuthority ca;
  private final EnrollmentStore store;
  private final AuditStore audit;
  private final Clock clock;
  private final Duration certificateLifetime;
  private final String trustBundlePem;
  private final Revocations revocations;
  private final AgentRegistry registry;
  private final UnaryOperator<String> newAgentIds;
  private final IssuedCertificates issued;

  /**
   * How agent ids are made: random, whatever the host's request asked for (the argument), so that no
   * one can pick the id of an agent that exists or will.
   */
  public static final UnaryOperator<String> RANDOM_IDS = requested -> Ids.random("ag-", 12);

  public EnrollmentService(Tokens tokens, CertificateAuthority ca, List<X509Certificate> trustBundle, EnrollmentStore store, AuditStore audit,
      Clock clock, Duration certificateLifetime, Revocations revocations, AgentRegistry registry,
      UnaryOperator<String> newAgentIds, IssuedCertificates issued) {
    this.issued = issued;
    this.tokens = tokens;
    this.newAgentIds = newAgentIds;
    this.revocations = revocations;
    this.registry = registry;
    this.ca = ca;
    this.store = store;
    this.audit = audit;
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
    if (!store.renewed(caller.name(), from, to, cert.getNotAfter().toInstant(), Keys.fingerprint(ca.certificate()),
        Keys.fingerprint(cert))) {
      log.atWarn().addKeyValue(ServiceLogging.AGENT, caller.name())
          .log("{} asked to renew certificate {}, which is neither its current nor its previous one, or it is revoked:"
          + " refused", caller, from);
      throw Status.PERMISSION_DENIED.withDescription("certificate " + from + " of " + caller
          + " cannot be renewed (revoked or replaced); enroll the host again with a new token").asRuntimeException();
    }
    issued.issued(cert);
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
    PublicKey key;
    String requested;
    try {
      token = BootstrapToken.parse(request.getToken());
      key = CertificateAuthority.verifiedRequestKey(request.getCsrDer().toByteArray());
      requested = requestedName(request);
    } catch (IllegalArgumentException e) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    Redemption granted;
    try {
      granted = tokens.redeem(token);
    } catch (Tokens.TokenRefusedException e) {
      log.warn("enrollment with {} refused: {}", token, e.getMessage());
      response.onError(Status.PERMISSION_DENIED.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    boolean replaces = !granted.replaces().isEmpty();
    String agentId;
    try {
      agentId = replaces ? granted.replaces() : newAgentIds.apply(requested);
      PeerIdentity.checkName(agentId);
    } catch (IllegalArgumentException e) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    X509Certificate cert = ca.issueClient(PeerIdentity.agent(agentId), key, certificateLifetime);
    List<String> retired;
    try {
      if (replaces) {
        // Written before the new host is answered: the host this id belonged to is refused from now on.
        revocations.retired(agentId, store.certificatesOf(agentId, clock.instant()));
      }
      retired = store.enroll(new Enrollment(agentId, granted.labels(), token.id(), Revocations.serial(cert),
          cert.getNotAfter().toInstant(), Keys.fingerprint(ca.certificate()), Keys.fingerprint(cert), clock.instant(),
          replaces));
      issued.issued(cert);
      if (replaces) {
        revocations.replaced(agentId, retired);
        registry.revoked(agentId, PeerIdentity.REVOKED + ": agent " + agentId + " was given to another host"
            + " (enrolled with " + token + "); enroll this host again with a new token");
      }
    } catch (java.io.IOException | StoreException e) {
      log.error("enrollment of agent {} with {} failed: {}", agentId, token, e.getMessage(), e);
      response.onError(Status.INTERNAL.withDescription("enrollment of agent " + agentId + " failed on the controller ("
          + e.getMessage() + "); create a new token and try again").asRuntimeException());
      return;
    }
    String how = replaces ? "replaced by a new host" : "enrolled";
    log.atInfo().addKeyValue(ServiceLogging.AGENT, agentId)
        .log("agent {} {} with {} (created by {}), labels {}, certificate {} valid until {}", agentId, how, token,
            granted.createdBy(), granted.labels(), Revocations.serial(cert), cert.getNotAfter().toInstant());
    audit.record(AuditEntry.of(clock.instant(), "token " + token.id(), replaces ? "agent replace" : "agent enroll",
        agentId, "token " + token.id() + " created by " + granted.createdBy() + ", labels " + granted.labels()
            + ", certificate " + Revocations.serial(cert)
            + (replaces ? "; certificates refused from the host it replaces: " + retired : "")));
    response.onNext(EnrollResponse.newBuilder()
        .setAgentId(agentId)
        .setCertificatePem(Pem.encode(cert))
        .setCaPem(trustBundlePem)
        .putAllLabels(granted.labels())
        .addAllReleaseKeys(granted.releaseKeys())
        .addAllControllerAddresses(registry.controllerAddresses())
        .build());
    response.onCompleted();
  }

  /** The CN the request asks for, or "" when it names none: read before the token is spent, and never trusted. */
  private static String requestedName(EnrollRequest request) {
    try {
      return CertificateAuthority.requestedName(request.getCsrDer().toByteArray());
    } catch (IllegalArgumentException noSingleName) {
      return "";
    }
  }
}
