package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's first command must work: the demo runs its scenario, exits 0 and leaves no process behind. */
class DemoIT {
  @TempDir Path dir;

  @Test
  void demoRunsTheWholeScenarioAndCleansUp() throws Exception {
    Path out = dir.resolve("demo.out");
    Process demo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Drackroll.agent.jar=" + Fleet.AGENT_JAR, "-jar", Fleet.CONTROLLER_JAR.toString(),
        "demo", "--dir", dir.resolve("demo").toString())
        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
    assertThat(demo.waitFor(180, TimeUnit.SECONDS)).as("demo finished in 3 minutes").isTrue();
    String output = Files.readString(out);
    assertThat(demo.exitValue()).as(output).isZero();
    assertThat(output).contains("The fleet, as 'rackroll agents' shows it:", "Demo complete",
        "of hello@1.0.0 completed: 6 active", "of hello@2.0.0 failed: 5 not started, 1 rolled back",
        "of hello@3.0.0 completed: 6 active", "rollback d-", "of hello completed: 3 active",
        "hello@4.0.0 has not been promoted to staging", "of hello@4.0.0 completed: 1 active",
        "of hello@4.0.0 completed: 5 active", "r1-1: greeting=hello from staging",
        "r1-2: greeting=hello from production", "r2-3: greeting=hello from production",
        "of hello banner=true completed: 3 active", "r1-3: (none)", "r2-1: banner=true");
    assertThat(output).doesNotContainPattern("(staging|production)-[0-9a-f]{8}-"); // the secrets' values
    assertThat(output.lines().filter(l -> l.contains(" connected ")).count()).as(output).isEqualTo(6);
    assertThat(output.lines().filter(l -> l.contains("answered in")).count()).isEqualTo(6);
    assertThat(output.lines().filter(l -> l.matches(".*\\br1\\b.*connected.*")).count()).isEqualTo(3);
    assertThat(processesUsing(dir)).as("no process left running").isEmpty();
  }

  @Test
  void interruptedDemoStopsEveryProcessItStarted() throws Exception {
    Path out = dir.resolve("demo.out");
    Process demo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Drackroll.agent.jar=" + Fleet.AGENT_JAR, "-jar", Fleet.CONTROLLER_JAR.toString(),
        "demo", "--keep-running", "--agents-per-rack", "1", "--dir", dir.resolve("demo").toString())
        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
    try {
      await("demo fleet up").atMost(Duration.ofSeconds(120))
          .failFast("demo exited early", () -> !demo.isAlive())
          .until(() -> Files.readString(out).contains("Press Ctrl-C to stop every process."));
      assertThat(processesUsing(dir)).as("controller and two agents running").hasSizeGreaterThanOrEqualTo(3);

      // The demo's web console is up, and the link it printed signs in once.
      java.util.regex.Matcher link = java.util.regex.Pattern.compile("https://127\\.0\\.0\\.1:\\d+/#login=[A-Za-z0-9_-]+")
          .matcher(Files.readString(out));
      assertThat(link.find()).as("a sign-in link printed").isTrue();
      String base = link.group().substring(0, link.group().indexOf("/#login="));
      java.net.http.HttpClient https = java.net.http.HttpClient.newBuilder()
          .sslContext(trusting(dir.resolve("demo/controller/pki/ca.crt"))).build();
      java.net.http.HttpResponse<String> session = https.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(base + "/api/session")).header("Origin", base)
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"link\":\""
              + link.group().substring(link.group().indexOf("#login=") + 7) + "\"}")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(session.statusCode()).as(session.body()).isEqualTo(200);
      assertThat(session.body()).contains("\"role\":\"owner\"");

      demo.destroy(); // SIGTERM: the JVM runs the same shutdown hook as for Ctrl-C (SIGINT)

      assertThat(demo.waitFor(60, TimeUnit.SECONDS)).isTrue();
      await("every demo process gone").atMost(Duration.ofSeconds(30)).until(() -> processesUsing(dir).isEmpty());
    } finally {
      demo.destroyForcibly();
    }
  }

  /** TLS that trusts only the CA in {@code caFile}. */
  private static javax.net.ssl.SSLContext trusting(Path caFile) throws Exception {
    java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (var in = Files.newInputStream(caFile)) {
      trust.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
        javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
    tls.init(null, tmf.getTrustManagers(), null);
    return tls;
  }

  /** Command lines of live processes that mention {@code dir} (every demo process does: --data, --config). */
  static List<String> processesUsing(Path dir) throws IOException {
    return ProcessHandle.allProcesses()
        .filter(ProcessHandle::isAlive)
        .map(p -> p.info().commandLine().orElse(""))
        .filter(c -> c.contains(dir.toString()) && !c.contains("surefire") && !c.contains("failsafe"))
        .toList();
  }
}
