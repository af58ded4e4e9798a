package io.rackroll.controller.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.trust.Pem;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControllerPkiRotationTest {
  private final Clock clock = Clock.systemUTC();
  @TempDir Path data;

  @Test
  void threeStepsEachRefusedOutOfTurn() throws Exception {
    ControllerPki first = ControllerPki.init(data, List.of("ctl.example.net", "10.0.0.5"), clock);
    X509Certificate oldCa = first.ca().certificate();
    assertThatThrownBy(() -> ControllerPki.finishRotation(data, clock)).hasMessageContaining("no CA rotation to finish");
    assertThatThrownBy(() -> ControllerPki.dropPreviousCa(data)).hasMessageContaining("no finished CA rotation");

    X509Certificate next = ControllerPki.beginRotation(data, clock);
    assertThatThrownBy(() -> ControllerPki.beginRotation(data, clock)).hasMessageContaining("already under way");
    ControllerPki begun = ControllerPki.load(data, clock);
    assertThat(begun.ca().certificate()).as("still signing with the old CA").isEqualTo(oldCa);
    assertThat(begun.trusted()).containsExactly(oldCa, next);

    ControllerPki.finishRotation(data, clock);
    ControllerPki finished = ControllerPki.load(data, clock);
    assertThat(finished.ca().certificate()).isEqualTo(next);
    assertThat(finished.trusted()).containsExactly(next, oldCa);
    X509Certificate server = finished.serverChain().get(0);
    server.verify(next.getPublicKey());
    assertThat(server.getPublicKey()).as("same key, new certificate").isEqualTo(first.serverChain().get(0).getPublicKey());
    assertThat(server.getSubjectAlternativeNames().stream().map(san -> san.get(1).toString()).toList())
        .containsExactly("ctl.example.net", "10.0.0.5", "localhost", "127.0.0.1");
    Pem.readCertificates(ControllerPki.dir(data).resolve("admin.crt")).get(0).verify(next.getPublicKey());
    assertThat(ControllerPki.rotation(data)).isEqualTo(ControllerPki.Rotation.FINISHED);

    ControllerPki.dropPreviousCa(data);
    assertThat(ControllerPki.load(data, clock).trusted()).containsExactly(next);
    assertThat(ControllerPki.rotation(data)).isEqualTo(ControllerPki.Rotation.NONE);
  }
}
