package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The documented CA rotation, step by step, with agent processes that must stay connected throughout. */
class CaRotationIT {
  private static final Duration RECONNECT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  void theCaIsReplacedInThreeStepsWithoutLosingAnAgent() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      Fleet.Agent a = fleet.startAgentWith("a", "rack=r1");
      Fleet.Agent b = fleet.startAgentWith("b", "rack=r2");
      fleet.awaitConnected(2);
      X509Certificate oldCa = certificates(fleet.data.resolve("pki/ca.crt")).get(0);

      // Step 1: the next CA, trusted beside the current one.
      Fleet.Cli begin = fleet.rackroll("controller", "rotate-ca");
      assertThat(begin.exit()).as(begin.toString()).isZero();
      assertThat(begin.out()).contains("Made the next CA", "restart the controller");
      Fleet.Cli early = fleet.rackroll("controller", "rotate-ca", "--finish");
      assertThat(early.exit()).isEqualTo(1);
      assertThat(early.err()).contains("the controller has not restarted since the rotation began");

      restart(fleet, 2);
      await("agents hold both CAs").atMost(RECONNECT)
          .until(() -> certificates(a.pki.resolve("ca.crt")).size() == 2 && certificates(b.pki.resolve("ca.crt")).size() == 2);

      // Step 2 waits for every agent to have the bundle.
      b.kill();
      await("b disconnected").atMost(RECONNECT).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.stateOf(b.id()).equals("disconnected"));
      Fleet.Cli refused = fleet.rackroll("controller", "rotate-ca", "--finish");
      assertThat(refused.exit()).isEqualTo(1);
      assertThat(refused.err()).contains("1 agent(s) do not have the new trust bundle yet: " + b.id());
      b.restart();
      await("b back").atMost(RECONNECT).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.stateOf(b.id()).equals("connected"));
      Fleet.Cli finish = fleet.rackroll("controller", "rotate-ca", "--finish");
      assertThat(finish.exit()).as(finish.toString()).isZero();
      X509Certificate newCa = certificates(fleet.data.resolve("pki/ca.crt")).get(0);
      assertThat(newCa).isNotEqualTo(oldCa);
      assertThat(fleet.rackroll("status").exit()).as("the CLI works before the restart").isZero();

      // After the restart the controller signs with the new CA; agents renew onto it by themselves.
      restart(fleet, 2);
      await("agents renewed onto the new CA").atMost(RECONNECT)
          .until(() -> signedBy(a, newCa) && signedBy(b, newCa));
      String fingerprint = io.rackroll.trust.Keys.fingerprint(newCa);
      await("the controller knows").atMost(RECONNECT).pollInterval(Fleet.CLI_POLL)
          .until(() -> fleet.agents().values().stream()
          .allMatch(n -> n.get("certificateCa").asText().equals(fingerprint)));

      // Step 3: the old CA goes.
      Fleet.Cli drop = fleet.rackroll("controller", "rotate-ca", "--drop-old");
      assertThat(drop.exit()).as(drop.toString()).isZero();
      restart(fleet, 2);
      await("agents trust only the new CA").atMost(RECONNECT)
          .until(() -> certificates(a.pki.resolve("ca.crt")).equals(List.of(newCa))
              && certificates(b.pki.resolve("ca.crt")).equals(List.of(newCa)));
      assertThat(fleet.rackroll("agents", "ping", a.id()).out()).contains("answered in");
      assertThat(a.log()).doesNotContain("certificate revoked", "stopping:");
    }
  }

  private static void restart(Fleet fleet, int agents) throws Exception {
    fleet.killController();
    fleet.startController();
    fleet.awaitConnected(agents);
  }

  private static boolean signedBy(Fleet.Agent agent, X509Certificate ca) throws Exception {
    try {
      certificates(agent.pki.resolve("agent.crt")).get(0).verify(ca.getPublicKey());
      return true;
    } catch (java.security.GeneralSecurityException e) {
      return false;
    }
  }

  private static List<X509Certificate> certificates(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      return CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
          .map(c -> (X509Certificate) c).toList();
    }
  }
}
