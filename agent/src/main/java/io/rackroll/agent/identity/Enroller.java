package io.rackroll.agent.identity;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rackroll.proto.v1.EnrollRequest;
import io.rackroll.proto.v1.EnrollResponse;
import io.rackroll.proto.v1.EnrollmentGrpc;
import io.rackroll.trust.BootstrapToken;
import io.rackroll.trust.Keys;
import io.rackroll.trust.MutualTls;
import io.rackroll.trust.Pem;
import io.rackroll.wire.HostPort;
import io.rackroll.wire.Statuses;
import java.io.IOException;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Enrolls this host: makes a key pair, sends a CSR with the bootstrap token to the controller
 * (verified by the CA fingerprint in the token), and stores the certificate it gets back.
 * The private key never leaves the host.
 */
public final class Enroller {
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  private final AgentIdentity identity;
  private final String agentVersion;

  public Enroller(AgentIdentity identity, String agentVersion) {
    this.identity = identity;
    this.agentVersion = agentVersion;
  }

  /** What enrollment produced, for the operator's record. */
  /** An enrolled identity; {@code releaseKeys}, the release keys its token named (one line each). */
  public record Result(String agentId, X509Certificate certificate, java.util.Map<String, String> labels,
      java.util.List<String> releaseKeys) {}

  public Result enroll(HostPort controller, BootstrapToken token) throws IOException {
    KeyPair pair = Keys.newKeyPair();
    // The request proves this host holds the key; the controller assigns the agent id.
    byte[] csr = Keys.agentCsr(identity.id().orElse("unenrolled"), pair);
    identity.saveKey(pair.getPrivate());
    ManagedChannel channel = NettyChannelBuilder.forAddress(controller.host(), controller.port())
        .sslContext(MutualTls.pinned(token.caFingerprint()))
        .build();
    EnrollResponse response;
    try {
      response = EnrollmentGrpc.newBlockingStub(channel)
          .withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
          .enroll(EnrollRequest.newBuilder()
              .setToken(token.text())
              .setCsrDer(ByteString.copyFrom(csr))
              .setAgentVersion(agentVersion)
              .build());
    } catch (StatusRuntimeException e) {
      throw new EnrollmentException(describe(controller, e), e);
    } finally {
      channel.shutdownNow();
    }
    // During a CA rotation the bundle holds the old and the new CA: the token's must be one of them.
    if (Pem.certificates(response.getCaPem()).stream().noneMatch(ca -> Keys.fingerprint(ca).equals(token.caFingerprint()))) {
      throw new EnrollmentException("controller " + controller + " returned a CA that does not match the token; "
          + "check that the token was created on this controller", null);
    }
    identity.saveEnrollment(response.getAgentId(), response.getCertificatePem(), response.getCaPem(),
        response.getLabelsMap());
    identity.saveControllers(response.getControllerAddressesList()); // none from a single controller
    return new Result(response.getAgentId(), Pem.certificates(response.getCertificatePem()).get(0),
        response.getLabelsMap(), response.getReleaseKeysList());
  }

  static String describe(HostPort controller, StatusRuntimeException e) {
    Optional<String> tls = tlsRefusal(controller, e);
    if (tls.isPresent()) {
      return tls.get();
    }
    String found = Statuses.detail(e.getStatus());
    String detail = found.isEmpty() ? e.getStatus().getCode().toString() : found;
    return switch (e.getStatus().getCode()) {
      case UNAVAILABLE -> "cannot enroll with " + controller + ": " + detail
          + " (check the address, that the controller runs, and that the token came from it)";
      case PERMISSION_DENIED, INVALID_ARGUMENT -> "enrollment refused by " + controller + ": " + detail;
      default -> "enrollment with " + controller + " failed: " + detail;
    };
  }

  /**
   * Why this host refused the controller's certificate, when that is why the call failed: the
   * certificate's chain (checked in {@code MutualTls.pinned}) or its names. gRPC only says "io
   * exception"; the reason is in the causes.
   */
  private static Optional<String> tlsRefusal(HostPort controller, StatusRuntimeException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof CertificateException c && c.getMessage() != null) {
        String m = c.getMessage();
        if (m.contains("does not match the token")) {
          return Optional.of("controller " + controller + " is not the one the token was made on: its CA does not match"
              + " the token's; create the token there ('rackroll token create') or enroll with that controller's address");
        }
        if (m.startsWith("No subject alternative") || m.startsWith("No name matching")) {
          return Optional.of("controller " + controller + ": " + controller.host() + " is not among the names in its"
              + " certificate (" + m + "); use a name or address given to 'rackroll controller init --san'");
        }
        return Optional.of("controller " + controller + ": its certificate was refused: " + m);
      }
    }
    return Optional.empty();
  }

  /** Enrollment failed; the message says why and what to do. */
  public static final class EnrollmentException extends IOException {
    EnrollmentException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
