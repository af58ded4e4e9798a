package io.rackroll.agent.identity;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.rackroll.trust.BootstrapToken;
import io.rackroll.trust.Keys;
import io.rackroll.trust.MutualTls;
import io.rackroll.wire.HostPort;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host refusing the controller's certificate at enrollment says which of the two things an
 * operator gets wrong it was, over a real TLS listener whose certificate names 127.0.0.1 only.
 */
class EnrollerTest {
  @TempDir Path dir;
  private final ThrowawayPki pki;
  private Server server;

  EnrollerTest() throws Exception {
    pki = new ThrowawayPki("ag-unused");
  }

  @BeforeEach
  void listen() throws Exception {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .sslContext(MutualTls.server(pki.serverKey.getPrivate(), List.of(pki.serverCert, pki.ca),
            List.<X509Certificate>of(pki.ca)))
        .build().start();
  }

  @AfterEach
  void close() {
    server.shutdownNow();
  }

  @Test
  void aTokenFromAnotherControllerIsNamedAsSuch() throws Exception {
    String otherCa = Keys.fingerprint(new ThrowawayPki("ag-other").ca);
    assertThatThrownBy(() -> enroll("127.0.0.1", otherCa))
        .hasMessage("controller 127.0.0.1:" + server.getPort() + " is not the one the token was made on: its CA does"
            + " not match the token's; create the token there ('rackroll token create') or enroll with that"
            + " controller's address");
  }

  @Test
  void anAddressTheCertificateDoesNotNameIsNamedAsSuch() throws Exception {
    assertThatThrownBy(() -> enroll("localhost", Keys.fingerprint(pki.ca)))
        .hasMessageStartingWith("controller localhost:" + server.getPort() + ": localhost is not among the names in"
            + " its certificate (")
        .hasMessageEndingWith("); use a name or address given to 'rackroll controller init --san'")
        .hasMessageNotContaining("Channel Pipeline");
  }

  private void enroll(String host, String caFingerprint) throws Exception {
    new Enroller(new AgentIdentity(dir.resolve("state"), dir.resolve("pki")), "test")
        .enroll(new HostPort(host, server.getPort()), new BootstrapToken("tok12345", "s".repeat(32), caFingerprint));
  }
}
