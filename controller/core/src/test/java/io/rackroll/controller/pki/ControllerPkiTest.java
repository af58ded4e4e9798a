package io.rackroll.controller.pki;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A controller's first certificates, as 'rackroll controller init' makes them. */
class ControllerPkiTest {
  @TempDir Path data;

  @Test
  void theServerCertificateNamesTheLoopbackBesideWhatTheOperatorListed() throws Exception {
    // The README's own --san: without the loopback, 'rackroll status' on the controller's host is refused.
    ControllerPki pki = ControllerPki.init(data, List.of("ctl.dc1.example.net", "10.0.0.5"), Clock.systemUTC());
    X509Certificate server = pki.serverChain().get(0);
    assertThat(server.getSubjectAlternativeNames()).extracting(san -> san.get(1).toString())
        .containsExactlyInAnyOrder("ctl.dc1.example.net", "10.0.0.5", "localhost", "127.0.0.1");
    assertThat(ControllerPki.serverNames(List.of("localhost", "ctl"))).containsExactly("localhost", "ctl", "127.0.0.1");
  }
}
