package io.rackroll.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentConfigTest {
  @TempDir Path dir;

  @Test
  void missingFileMeansDefaults() {
    AgentConfig c = AgentConfig.load(dir.resolve("agent.yaml"));
    assertThat(c.controller()).isNull();
    assertThat(c.stateDir()).isEqualTo(Path.of("/var/lib/rackroll"));
    assertThat(c.pkiDir()).isEqualTo(dir.resolve("pki"));
    assertThat(c.factsInterval()).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void theFileThePackageShipsIsEveryDefaultButSignedReleasesOnceKeysAreSet() {
    Path shipped = Path.of("../packaging/deb/src/etc/agent.yaml");
    AgentConfig c = AgentConfig.load(shipped);
    AgentConfig defaults = AgentConfig.load(shipped.resolveSibling("none.yaml"));
    assertThat(defaults.requireSignedReleases()).as("off without a file, for agents upgraded in place")
        .isEqualTo(io.rackroll.agent.identity.ReleaseTrust.Policy.OFF);
    assertThat(c.requireSignedReleases()).isEqualTo(io.rackroll.agent.identity.ReleaseTrust.Policy.AUTO);
    assertThat(c).usingRecursiveComparison().ignoringFields("requireSignedReleases").isEqualTo(defaults);
    assertThat(c.controller()).as("the address comes from the enrollment").isNull();
  }

  @Test
  void releaseKeysComeFromTheFileAndFromPubFilesBesideItAndABadOneIsNamed() throws Exception {
    io.rackroll.trust.ReleaseKey listed = io.rackroll.trust.ReleaseKey.of(io.rackroll.trust.ReleaseKey.generate()
        .getPublic());
    io.rackroll.trust.ReleaseKey shipped = io.rackroll.trust.ReleaseKey.of(io.rackroll.trust.ReleaseKey.generate()
        .getPublic());
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, "releaseKeys:\n  - " + listed.format("ops") + "\nrequireSignedReleases: true\n");
    Files.createDirectories(dir.resolve("release-keys"));
    Files.writeString(dir.resolve("release-keys/vendor.pub"), shipped.format("vendor") + "\n");
    Files.writeString(dir.resolve("release-keys/README"), "not a key, not read\n");
    AgentConfig c = AgentConfig.load(file);
    assertThat(c.releaseKeys()).containsExactly(listed, shipped);
    assertThat(c.requireSignedReleases()).isEqualTo(io.rackroll.agent.identity.ReleaseTrust.Policy.ON);

    Files.writeString(dir.resolve("release-keys/broken.pub"), "ed25519 nope\n");
    assertThatThrownBy(() -> AgentConfig.load(file)).hasMessageStartingWith(file + ": "
        + dir.resolve("release-keys/broken.pub") + ": not an Ed25519 public key");
    Files.writeString(file, "releaseKeys: [\"ssh-rsa AAAA\"]\n");
    assertThatThrownBy(() -> AgentConfig.load(file)).hasMessageStartingWith(file + ": releaseKeys[0]: a release key is"
        + " one line");
  }

  @Test
  void unknownKeyIsNamedWithItsLine() throws Exception {
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, "controller: ctl:7443\ncontroler: typo:1\n");
    assertThatThrownBy(() -> AgentConfig.load(file))
        .hasMessageStartingWith(file + " line 2: unknown key \"controler\"");
  }

  @Test
  void badValueIsNamedWithItsKey() throws Exception {
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, "factsInterval: soon\n");
    assertThatThrownBy(() -> AgentConfig.load(file)).hasMessage(file + ": factsInterval: soon "
        + "(expected: a number and a unit: ms, s, m, h or d, e.g. 30s)");
  }

  @Test
  void anEmptyValueIsTheDefaultAndAWrongShapeIsNamed() throws Exception {
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, "factsInterval:\nkeepReleases: ~\n");
    assertThat(AgentConfig.load(file).factsInterval()).isEqualTo(java.time.Duration.ofSeconds(60));
    assertThat(AgentConfig.load(file).keepReleases()).isEqualTo(3);
    Files.writeString(file, "keepReleases: many\n");
    assertThatThrownBy(() -> AgentConfig.load(file)).hasMessage(file + " line 1: keepReleases: many (expected: a whole"
        + " number)");
    Files.writeString(file, "controller: ctl:7443\nreleaseKeys: ed25519 abc\n");
    assertThatThrownBy(() -> AgentConfig.load(file)).hasMessageStartingWith(file + " line 2: releaseKeys: expected a list");
    Files.writeString(file, "stateDir: [a, b]\n");
    assertThatThrownBy(() -> AgentConfig.load(file)).hasMessage(file + " line 1: stateDir needs a single value");
    Files.writeString(file, "- controller\n");
    assertThatThrownBy(() -> AgentConfig.load(file)).hasMessageStartingWith(file + ": expected settings by name");
    Files.writeString(file, "controller: ctl:7443\n  stateDir: [\n");
    assertThatThrownBy(() -> AgentConfig.load(file)).hasMessageStartingWith(file + " line 2: not valid YAML: ");
  }
}
