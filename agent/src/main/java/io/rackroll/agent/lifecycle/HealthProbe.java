package io.rackroll.agent.lifecycle;

import io.rackroll.agent.install.ReleaseTree;
import io.rackroll.release.Manifest.Health;
import io.rackroll.release.Manifest.HealthCheck;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * Runs a release's health checks until they pass {@code healthyAfter} times in a row (every check
 * in a round must pass) or the deadline passes. The result names the check that failed last.
 */
final class HealthProbe {
  private final HttpClient http = HttpClient.newBuilder().build();

  record Verdict(boolean healthy, String detail) {}

  Verdict await(Health health, Path releaseDir) throws InterruptedException {
    if (health.checks().isEmpty()) {
      return new Verdict(true, "no health checks declared");
    }
    Instant deadline = Instant.now().plus(health.deadline());
    int passes = 0;
    int rounds = 0;
    String lastFailure = "";
    while (Instant.now().isBefore(deadline)) {
      rounds++;
      String failure = round(health, releaseDir);
      if (failure == null) {
        if (++passes >= health.healthyAfter()) {
          return new Verdict(true, passes + " consecutive passes");
        }
      } else {
        passes = 0;
        lastFailure = failure;
      }
      Thread.sleep(health.interval().toMillis()); // the manifest's probe interval, not a wait for a condition
    }
    return new Verdict(false, "not healthy within " + io.rackroll.wire.Durations.format(health.deadline()) + " ("
        + rounds + " rounds); last failure: " + lastFailure);
  }

  /** One result per check, for the periodic report (every check runs, even after a failure). */
  java.util.List<io.rackroll.proto.v1.CheckResult> once(Health health, Path releaseDir) throws InterruptedException {
    java.util.List<io.rackroll.proto.v1.CheckResult> out = new java.util.ArrayList<>();
    for (HealthCheck check : health.checks()) {
      String failure = run(check, health, releaseDir);
      out.add(io.rackroll.proto.v1.CheckResult.newBuilder().setCheck(name(check)).setOk(failure == null)
          .setDetail(failure == null ? "" : failure).build());
    }
    return out;
  }

  /** One round; null when every check passed, else the first failure. */
  private String round(Health health, Path releaseDir) throws InterruptedException {
    for (HealthCheck check : health.checks()) {
      String failure = run(check, health, releaseDir);
      if (failure != null) {
        return failure;
      }
    }
    return null;
  }

  /** Runs one check; null when it passed, else what failed. */
  private String run(HealthCheck check, Health health, Path releaseDir) throws InterruptedException {
    if (check instanceof HealthCheck.Http h) {
      return http(h, health);
    } else if (check instanceof HealthCheck.Tcp t) {
      return tcp(t, health);
    }
    return exec((HealthCheck.Exec) check, health, releaseDir);
  }

  private static String name(HealthCheck check) {
    if (check instanceof HealthCheck.Http h) {
      return "http " + h.url();
    } else if (check instanceof HealthCheck.Tcp t) {
      return "tcp " + t.host() + ":" + t.port();
    }
    return "exec " + ((HealthCheck.Exec) check).path();
  }

  private String http(HealthCheck.Http h, Health health) throws InterruptedException {
    try {
      HttpResponse<Void> r = http.send(HttpRequest.newBuilder(h.url()).timeout(health.timeout()).GET().build(),
          HttpResponse.BodyHandlers.discarding());
      return r.statusCode() / 100 == 2 ? null : "http " + h.url() + " answered " + r.statusCode();
    } catch (IOException e) {
      return "http " + h.url() + ": " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage());
    }
  }

  private static String tcp(HealthCheck.Tcp t, Health health) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(t.host(), t.port()), (int) health.timeout().toMillis());
      return null;
    } catch (IOException e) {
      return "tcp " + t.host() + ":" + t.port() + ": " + e.getMessage();
    }
  }

  private static String exec(HealthCheck.Exec e, Health health, Path releaseDir) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(ReleaseTree.resolve(releaseDir, e.path()).toString()).directory(releaseDir.toFile())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(health.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        return "exec " + e.path() + " timed out";
      }
      return p.exitValue() == 0 ? null : "exec " + e.path() + " exited with " + p.exitValue();
    } catch (IOException ex) {
      return "exec " + e.path() + " could not start: " + ex.getMessage();
    }
  }
}
