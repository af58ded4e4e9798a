package io.rackroll.e2e;

import static io.rackroll.e2e.Fleet.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed releases with a real agent that requires them: the host, not the controller, decides.
 * A signed release installs; unsigned, altered, foreign-key and other-release signatures are each
 * refused on the host with one line, before a byte is downloaded; a key statement signed by the
 * old key moves the host to a new key, and a withdrawal takes the old one away.
 */
class SigningIT {
  @TempDir Path dir;

  @Test
  void aHostInstallsOnlyWhatAKeyItTrustsSignedAndMovesToANewKeyByAStatement() throws Exception {
    try (Fleet fleet = Fleet.start(dir)) {
      Path keys = dir.resolve("keys");
      Fleet.Cli keygen = ok(fleet.rackroll("release", "keygen", "release-a", "--out", keys.toString()));
      assertThat(keygen.out()).startsWith("wrote " + keys.resolve("release-a.key") + " (private: keep it here)");
      assertThat(Files.getPosixFilePermissions(keys.resolve("release-a.key")))
          .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
      ok(fleet.rackroll("release", "keygen", "release-b", "--out", keys.toString()));
      ok(fleet.rackroll("release", "keygen", "stranger", "--out", keys.toString()));
      String keyA = keyId(keygen);

      // The host trusts key a from its token; the packaged policy (auto) then requires signatures.
      Fleet.Cli token = ok(fleet.rackroll("token", "create", "--labels", "rack=r1", "--release-key",
          keys.resolve("release-a.pub").toString()));
      Fleet.Agent host = fleet.startAgent("h1", token.out().strip(), "requireSignedReleases: auto\n");
      fleet.awaitConnected(1);

      assertThat(ok(fleet.rackroll("agents", "show", host.id())).out())
          .contains("releases     only signed ones, trusts key " + keyA);

      // Signed by a: installs.
      Path v1 = fleet.web("1").pack();
      Fleet.Cli sign = ok(fleet.rackroll("release", "sign", v1.toString(), "--key", keys.resolve("release-a.key")
          .toString()));
      assertThat(sign.out()).isEqualTo("signed web@1 with key " + keyA + ": wrote " + v1 + ".sig\n");
      assertThat(ok(fleet.rackroll("release", "push", v1.toString())).out()).contains("signed by key " + keyA);
      ok(fleet.rackroll("deploy", "web@1", "--selector", "rack=r1", "--health-gate", "0s", "--watch"));
      assertThat(host.current("web")).isEqualTo("1");
      assertThat(ok(fleet.rackroll("releases")).out()).containsPattern("web +1 .* " + keyA + " +admin ");

      // Unsigned: plan says the host will refuse; the controller sends it anyway when asked, and the host refuses.
      fleet.web("2").push();
      assertThat(ok(fleet.rackroll("plan", "web@2", "--selector", "rack=r1")).out())
          .contains("would refuse: 1 host(s)", "requires signed releases; web@2 is unsigned");
      refused(fleet, host, "2", "web@2 is not signed, and this host runs only signed releases (requireSignedReleases)");

      // A flipped byte in the signature.
      Path v3 = fleet.web("3").pack();
      ok(fleet.rackroll("release", "sign", v3.toString(), "--key", keys.resolve("release-a.key").toString()));
      Path sig3 = Path.of(v3 + ".sig");
      String text = Files.readString(sig3);
      int at = text.indexOf("signature: ") + 20;
      Files.writeString(sig3, text.substring(0, at) + (text.charAt(at) == 'A' ? 'B' : 'A') + text.substring(at + 1));
      ok(fleet.rackroll("release", "push", v3.toString()));
      refused(fleet, host, "3", "web@3: the signature by key " + keyA + " does not verify (altered or forged)");

      // Signed by a key the host does not trust.
      Path v4 = fleet.web("4").pack();
      Fleet.Cli strangerSign = ok(fleet.rackroll("release", "sign", v4.toString(), "--key",
          keys.resolve("stranger.key").toString()));
      ok(fleet.rackroll("release", "push", v4.toString()));
      refused(fleet, host, "4", "web@4: signed by key " + keyId(strangerSign) + ", which this host does not trust");

      // Another release's signature: the push warns, the host refuses.
      Path v5 = fleet.web("5").pack();
      Fleet.Cli push5 = ok(fleet.rackroll("release", "push", v5.toString(), "--signature", v1 + ".sig"));
      assertThat(push5.err()).contains("rackroll: warning: the signature is for web@1");
      refused(fleet, host, "5", "web@5: the signature by key " + keyA + " is for web@1");

      // Rotation: a statement signed by a, pushed through the controller, makes the host trust b.
      Fleet.Cli statement = ok(fleet.rackroll("release", "key", "trust", keys.resolve("release-b.pub").toString(),
          "--key", keys.resolve("release-a.key").toString(), "-o", dir.resolve("trust-b.statement").toString()));
      assertThat(statement.out()).contains("trust key ");
      ok(fleet.rackroll("release", "key", "push", dir.resolve("trust-b.statement").toString()));
      String keyB = keyId(ok(fleet.rackroll("release", "sign", fleet.web("6").pack().toString(), "--key",
          keys.resolve("release-b.key").toString())));
      await("the host reports trusting key b").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
          .until(() -> fleet.rackroll("release", "key", "list").out().lines()
              .anyMatch(l -> l.matches("trust +" + keyB + " +" + keyA + " .* 1 .*")));
      ok(fleet.rackroll("release", "push", dir.resolve("web-6.tar.gz").toString()));
      ok(fleet.rackroll("deploy", "web@6", "--selector", "rack=r1", "--health-gate", "0s", "--watch"));
      assertThat(host.current("web")).isEqualTo("6");

      // b withdraws a: a's signatures stop working on the host, and stay stopped after a restart.
      ok(fleet.rackroll("release", "key", "withdraw", keys.resolve("release-a.pub").toString(), "--key",
          keys.resolve("release-b.key").toString(), "-o", dir.resolve("withdraw-a.statement").toString()));
      ok(fleet.rackroll("release", "key", "push", dir.resolve("withdraw-a.statement").toString()));
      await("the host no longer trusts key a").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
          .until(() -> fleet.rackroll("release", "key", "list").out().lines()
              .anyMatch(l -> l.matches("withdraw +" + keyA + " +" + keyB + " .* 0 .*")));
      host.terminate();
      host.process.waitFor();
      host.restart();
      fleet.awaitConnected(1);
      Path v7 = fleet.web("7").pack();
      ok(fleet.rackroll("release", "sign", v7.toString(), "--key", keys.resolve("release-a.key").toString()));
      ok(fleet.rackroll("release", "push", v7.toString()));
      refused(fleet, host, "7", "web@7: signed by key " + keyA + ", which this host does not trust");
      assertThat(fleet.rackroll("audit").out()).contains("key statement", "release push");
    }
  }

  /** Deploys web@VERSION to the host, which refuses it with {@code line}: nothing downloaded or unpacked. */
  private static void refused(Fleet fleet, Fleet.Agent host, String version, String line) throws Exception {
    String before = host.current("web");
    long downloaded = host.downloadedBytes();
    Fleet.Cli deploy = fleet.rackroll("deploy", "web@" + version, "--selector", "rack=r1", "--health-gate", "0s",
        "--watch");
    assertThat(deploy.exit()).as(deploy.toString()).isEqualTo(1);
    assertThat(deploy.out()).contains("FAILED", line);
    assertThat(host.current("web")).isEqualTo(before);
    assertThat(host.downloadedBytes()).as("bytes downloaded for web@" + version).isEqualTo(downloaded);
    assertThat(host.state.resolve("apps/web/releases/" + version)).doesNotExist();
  }

  /** The key id a keygen or sign output names. */
  private static String keyId(Fleet.Cli r) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("key (?:id )?([0-9a-f]{16})").matcher(r.out());
    assertThat(m.find()).as(r.toString()).isTrue();
    return m.group(1);
  }
}
