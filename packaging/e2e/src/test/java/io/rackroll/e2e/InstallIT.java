package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packages as an operator installs them: both .tar.gz archives unpacked into one root, the
 * controller and the agent run from their launchers with the paths the packages lay out.
 */
class InstallIT {
  @TempDir Path dir;

  @Test
  void aHostEnrolledFromThePackagesTakesAReleaseAndKeepsEverythingAcrossAnUpgrade() throws Exception {
    Path root = dir.resolve("root");
    Packages.unpack(Packages.tarball("rackroll-controller"), root);
    Packages.unpack(Packages.tarball("rackroll-agent"), root);
    Path agentConfig = root.resolve("etc/rackroll/agent.yaml");
    Path state = root.resolve("var/lib/rackroll");

    try (Fleet fleet = Fleet.installed(dir, root)) {
      // Unpacked under a root of its own, the agent's state is not at the default place: the
      // operator says where in agent.yaml, which is theirs to edit.
      Files.writeString(agentConfig, Files.readString(agentConfig).replace("# stateDir: /var/lib/rackroll",
          "stateDir: " + state));
      String edited = Files.readString(agentConfig);

      // Enrolling a host is one command after the install; it says what it wrote and what comes next.
      Fleet.Cli enroll = fleet.rackrollAgent("enroll", "--config", agentConfig.toString(),
          "--controller", fleet.controllerAddress(), "--token", fleet.token("rack=r1", 1));
      assertThat(enroll.exit()).as(enroll.toString()).isZero();
      assertThat(enroll.out()).contains("Enrolled agent ", "labels       {rack=r1}",
          "private key  " + root.resolve("etc/rackroll/pki/agent.key") + " (0600)",
          "identity     " + state.resolve("identity.properties") + " (agent id and controller; " + agentConfig
              + " is left as it is)",
          "Next: systemctl enable --now rackroll-agent");
      assertThat(Files.readString(agentConfig)).as("the conffile is the operator's").isEqualTo(edited);
      assertThat(Files.readString(state.resolve("identity.properties")))
          .contains("controller=" + fleet.controllerAddress().replace(":", "\\:"));
      assertThat(Files.getPosixFilePermissions(root.resolve("etc/rackroll/pki")))
          .isEqualTo(PosixFilePermissions.fromString("rwx------"));
      assertThat(Files.getPosixFilePermissions(root.resolve("etc/rackroll/pki/agent.key")))
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));

      // Then the service: what the unit's ExecStart runs.
      Fleet.Agent host = fleet.startInstalledAgent("host", state);
      fleet.awaitConnected(1);
      String id = host.id();
      fleet.web("1").push();
      Fleet.Cli deploy = fleet.rackroll("deploy", "web@1", "--selector", "rack=r1", "--health-gate", "0s", "--watch");
      assertThat(deploy.exit()).as(deploy.toString()).isZero();
      assertThat(host.current("web")).isEqualTo("1");
      String certificate = host.certificate();

      // Upgrade from the archive, as the README says: stop, unpack all but etc/, start.
      host.kill();
      Files.writeString(root.resolve("usr/share/rackroll/rackroll-agent.jar"), "a broken old build");
      Packages.unpack(Packages.tarball("rackroll-agent"), root, "--exclude=etc/*");
      host.restart();

      await(fleet, id);
      assertThat(host.id()).isEqualTo(id);
      assertThat(host.certificate()).isEqualTo(certificate);
      assertThat(host.current("web")).isEqualTo("1");
      assertThat(Files.readString(agentConfig)).isEqualTo(edited);
      assertThat(fleet.agents()).hasSize(1);
      fleet.web("2").push();
      assertThat(fleet.rackroll("deploy", "web@2", "--selector", "rack=r1", "--health-gate", "0s", "--watch").exit())
          .isZero();
      assertThat(host.current("web")).isEqualTo("2");
      assertThat(state.resolve("apps/web/releases/1")).as("the release before is kept for rollback").isDirectory();
    }
  }

  private static void await(Fleet fleet, String id) {
    org.awaitility.Awaitility.await("upgraded agent connected").atMost(java.time.Duration.ofSeconds(60))
        .until(() -> fleet.stateOf(id).equals("connected"));
  }
}
