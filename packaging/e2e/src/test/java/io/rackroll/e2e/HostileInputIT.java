package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an attacker sends, through the CLI and a real agent process: releases whose links lead
 * out, decompression bombs, truncated artifacts, names that are paths, and files that are not what
 * they claim. Each is refused with one line, and nothing outside a release directory changes.
 */
class HostileInputIT {
  @TempDir static Path dir;
  private static Fleet fleet;
  private static Fleet.Agent host;

  @BeforeAll
  static void start() throws Exception {
    fleet = Fleet.start(dir);
    host = fleet.startAgentWith("r1-s1", "rack=r1");
    fleet.awaitConnected(1);
  }

  @AfterAll
  static void stop() {
    if (fleet != null) {
      fleet.close();
    }
  }

  private static void assertOneLineError(Fleet.Cli r, String... fragments) {
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.err().strip().lines()).as(r.toString()).hasSize(1);
    assertThat(r.err()).as(r.toString()).contains(fragments).doesNotContain("Exception", "\tat ");
  }

  @Test
  void aReleaseWhoseChainOfLinksLeadsOutIsRefusedOnTheHostAndNothingOutsideChanges() throws Exception {
    // Each link looks as if it stays inside; on disk, d/up is the release and d/up/../.. its app directory.
    Path sentinel = Files.writeString(host.state.resolve("sentinel"), "untouched");
    fleet.web("6.6.6").link("d/up", "..").link("esc", "d/up/../..").file("d/keep", "x").push();

    String d = fleet.deploy("web@6.6.6", "rack=r1", "--canary", "0", "--max-failures", "0");

    assertThat(fleet.awaitEnd(d)).contains("failed");
    assertThat(fleet.deployment(d)).contains("leads outside the release");
    assertThat(host.state.resolve("apps/web/releases/6.6.6")).doesNotExist();
    assertThat(host.state.resolve("apps/web/current")).doesNotExist();
    assertThat(sentinel).hasContent("untouched");
  }

  @Test
  void aDecompressionBombIsRefusedAtPushWithoutUnpackingIt() throws Exception {
    // 256 MiB of zeros in one file: a few hundred KiB of gzip.
    Path bomb = dir.resolve("bomb.tar.gz");
    try (OutputStream file = Files.newOutputStream(bomb);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(file))) {
      byte[] manifest = "name: bomb\nversion: \"1\"\n".getBytes(StandardCharsets.UTF_8);
      TarArchiveEntry m = new TarArchiveEntry("rackroll.yaml");
      m.setSize(manifest.length);
      tar.putArchiveEntry(m);
      tar.write(manifest);
      tar.closeArchiveEntry();
      TarArchiveEntry zeros = new TarArchiveEntry("zeros");
      zeros.setSize(256L << 20);
      tar.putArchiveEntry(zeros);
      byte[] block = new byte[1 << 20];
      for (int i = 0; i < 256; i++) {
        tar.write(block);
      }
      tar.closeArchiveEntry();
    }
    assertOneLineError(fleet.rackroll("release", "push", bomb.toString()),
        "rackroll: artifact refused: it expands more than 100 times its compressed size",
        "raise maxUnpackedSize, maxUnpackedEntries or maxCompressionRatio in controller.yaml");
    assertThat(fleet.rackroll("releases", "bomb").out()).doesNotContain("bomb@1");
  }

  @Test
  void aTruncatedArtifactSaysItEndsTooEarly() throws Exception {
    fleet.web("7.0.0").payload(200_000).push();
    byte[] whole = Files.readAllBytes(dir.resolve("web-7.0.0.tar.gz"));
    Path cut = Files.write(dir.resolve("cut.tar.gz"), Arrays.copyOf(whole, whole.length / 2));
    assertOneLineError(fleet.rackroll("release", "push", cut.toString()),
        "rackroll: artifact is not a readable .tar.gz: it ends too early (truncated, or the upload was cut short)");
  }

  @Test
  void namesThatArePathsOrHugeAreRefusedAtTheDoor() {
    assertOneLineError(fleet.rackroll("rollback", "../../../x", "--selector", "rack=r1"),
        "rackroll: app name: ../../../x (expected:");
    assertOneLineError(fleet.rackroll("deploy", "a".repeat(10_000) + "@1", "--selector", "rack=r1"),
        "rackroll: app name: aaaa", "(10000 characters)");
    assertOneLineError(fleet.rackroll("token", "create", "--replaces", "../x"), "rackroll: agent id: ../x");
  }

  @Test
  void inputFilesThatAreNotTextAreNamedWithWhatIsWrong() throws Exception {
    assertOneLineError(fleet.rackroll("env", "apply", "-f", "/dev/zero"),
        "rackroll: environments file /dev/zero is larger than 1.0 MiB");
    assertOneLineError(fleet.rackroll("env", "apply", "-f", dir.toString()),
        "rackroll: environments file " + dir + " is a directory (expected: a file)");
    Path binary = Files.write(dir.resolve("binary.yaml"), new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
    assertOneLineError(fleet.rackroll("env", "apply", "-f", binary.toString()),
        "rackroll: environments file " + binary + " is not UTF-8 text");
    assertOneLineError(fleet.rackroll("release", "push", dir.toString()), "rackroll: artifact " + dir + " is a directory");
  }

  @Test
  void aTokenHolderGetsANewIdentityAndOnlyTheAdminsReplacementTokenGivesAnOldOne() throws Exception {
    Fleet.Agent old = fleet.startAgentWith("r2-s1", "rack=r2");
    fleet.awaitConnected(2);
    String id = old.id();

    // The host is reinstalled: the admin makes a token for this agent, and the new host takes it over.
    Fleet.Cli token = fleet.rackroll("token", "create", "--replaces", id);
    assertThat(token.exit()).as(token.toString()).isZero();
    Fleet.Agent replacement = fleet.startAgent("r2-s1-new", token.out().trim());

    assertThat(old.awaitExit()).as("the old host is told it was replaced and stops for good").isEqualTo(78);
    org.awaitility.Awaitility.await("the new host connected as " + id).atMost(java.time.Duration.ofSeconds(60))
        .until(() -> replacement.enrolled() && "connected".equals(fleet.stateOf(id)));
    assertThat(replacement.id()).isEqualTo(id);
    assertThat(fleet.rackroll("audit").out()).contains("agent replace", id);
  }

  @Test
  void aFloodOfIdleConnectionsFromOneAddressLeavesTheCliWorking() throws Exception {
    String[] hostPort = fleet.controllerAddress().split(":");
    java.util.List<java.net.Socket> flood = new java.util.ArrayList<>();
    try {
      // Far more idle sockets than the controller admits handshakes at once (512), from one address.
      for (int i = 0; i < 600; i++) {
        java.net.Socket s = new java.net.Socket();
        s.bind(new java.net.InetSocketAddress("127.0.0.2", 0));
        s.connect(new java.net.InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])));
        flood.add(s);
      }
      Fleet.Cli agents = fleet.rackroll("agents");
      assertThat(agents.exit()).as(agents.toString()).isZero();
      assertThat(agents.out()).contains(host.id());
    } finally {
      for (java.net.Socket s : flood) {
        s.close();
      }
    }
  }
}
