package io.rackroll.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.rackroll.agent.testing.Tmpfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults at the worst moments of rollouts, on a fleet of three hosts: SIGKILL of an agent in every
 * phase of a deploy and of a rollback, SIGTERM during activation, a host frozen past its timeout
 * or in its health gate and then woken, a disk turned read-only during an install, SIGKILL of the
 * controller at a random moment of a rollout that spends its failure budget. After each trial,
 * whatever happened, this must hold:
 * <ul>
 *   <li>the deployment ended, and every one of its hosts runs the release its record says: the new
 *       one if the host got there and was not taken back, else the one it had before;
 *   <li>the host's {@code lifecycle.json}, its {@code current} link and the controller's record of
 *       the host agree;
 *   <li>no hook ran while another run of itself was still running on that host;
 *   <li>after a controller SIGKILL, every transition and audit line it had shown is still there.
 * </ul>
 *
 * <p>Moments are held open, never raced: every hook of the sweep's releases waits while a file the
 * test made exists ({@link #hook}), so the test strikes while the host is inside that hook, and
 * downloads are slowed by the controller's rate limit. Only the trials meant to be random (an agent
 * or the controller killed some milliseconds after a rollout starts) strike at a drawn moment.
 *
 * <p>The plan is seeded: which fault strikes which host at which hook or moment, in which order. The
 * seed is printed, and {@code -Dsweep.seed=N} replays it. Each run makes every kind of fault once;
 * {@code -Dsweep.rounds=N} makes each N times (the longer run, see docs/fault-sweeps.md), and
 * {@code -Dsweep.faults=A,B} only those kinds.
 */
class SweepOfFaultsIT {
  private static final Duration UP = Duration.ofSeconds(120);
  /** Rollouts of the sweep: every host after the canary at once, no failure allowed, room for a restart. */
  private static final String[] ROLLOUT = {"--batch", "100%", "--health-gate", "0s", "--max-failures", "0",
      "--host-timeout", "60s"};
  private static final Set<String> ENDED = Set.of("completed", "failed", "rolled_back", "rollback_failed", "aborted");
  private static final Set<String> TERMINAL = Set.of("ACTIVE", "ROLLED_BACK", "FAILED");

  enum Fault {
    AGENT_KILLED_DOWNLOADING, AGENT_KILLED_INSTALLING, AGENT_KILLED_ACTIVATING, AGENT_KILLED_CHECKING_HEALTH,
    AGENT_KILLED_ROLLING_BACK, AGENT_KILLED_AT_RANDOM, AGENT_KILLED_IN_ROLLBACK, AGENT_TERMINATED_ACTIVATING, HOST_FROZEN_PAST_TIMEOUT,
    HOST_FROZEN_IN_GATE, DISK_READ_ONLY_INSTALLING, CONTROLLER_KILLED_MID_ROLLOUT
  }

  @TempDir Path dir;
  private Fleet fleet;
  private Tmpfs disk;
  private Random random;
  private final Map<String, Fleet.Agent> hosts = new LinkedHashMap<>();
  private int version = 2;

  @Test
  void everyHostEndsWhereTheRecordSays() throws Exception {
    long seed = Long.getLong("sweep.seed", System.nanoTime());
    int rounds = Integer.getInteger("sweep.rounds", 1);
    random = new Random(seed);
    List<Fault> faults = System.getProperty("sweep.faults", "").isBlank() ? List.of(Fault.values())
        : Stream.of(System.getProperty("sweep.faults").split(",")).map(String::trim).map(Fault::valueOf).toList();
    List<Fault> plan = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      List<Fault> round = new ArrayList<>(faults);
      Collections.shuffle(round, random);
      plan.addAll(round);
    }
    System.out.println("fault sweep: seed " + seed + " (replay with -Dsweep.seed=" + seed + "), " + plan.size()
        + " trials");
    // Host a's state is on a disk of its own, which a trial turns read-only.
    try (Tmpfs tmpfs = Tmpfs.mount(dir.resolve("agents/a/state"), "64m");
        Fleet started = Fleet.start(dir, "transferRateLimit: 4MiB")) {
      disk = tmpfs;
      fleet = started;
      for (String name : List.of("a", "b", "c")) {
        hosts.put(name, fleet.startAgentWith(name, "rack=r" + (hosts.size() + 1) + ",role=web"));
        moments(hosts.get(name));
      }
      fleet.awaitConnected(3);
      // Two releases everywhere, so every host has one to roll back to.
      for (String v : List.of("1", "2")) {
        release(v).push();
        assertThat(fleet.rackroll(concat(new String[] {"deploy", "web@" + v, "--selector", "role=web", "--watch"},
            ROLLOUT)).exit()).isZero();
      }
      for (int i = 0; i < plan.size(); i++) {
        String what = "trial " + (i + 1) + " of " + plan.size() + ", " + plan.get(i);
        try {
          String deployment = trial(plan.get(i));
          assertAgreement(deployment);
          System.out.println("fault sweep: " + what + ": " + fleet.deploymentJson(deployment).path("state").asText()
              + ", every host where its record says");
        } catch (Exception | AssertionError e) {
          // CI keeps no temporary directories: the failure carries what the fleet said.
          System.out.println(fleet.rackroll("status").out());
          for (Fleet.Agent host : hosts.values()) {
            List<String> lines = host.log().lines().toList();
            System.out.println("--- the end of " + host.name + "'s log:\n"
                + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
          }
          throw new AssertionError(what + " (replay with -Dsweep.seed=" + seed + "): " + e.getMessage(), e);
        } finally {
          clearMoments();
        }
      }
    }
  }

  /** Runs one fault and returns the deployment it struck; the fleet is left to settle by itself. */
  private String trial(Fault fault) throws Exception {
    Fleet.Agent host = fault == Fault.DISK_READ_ONLY_INSTALLING ? hosts.get("a") : any();
    String v = Integer.toString(++version);
    switch (fault) {
      case AGENT_KILLED_DOWNLOADING -> {
        release(v).payload(8 << 20).push(); // two seconds at 4 MiB/s
        String d = deployAll(v);
        await("part of the artifact on " + host.name).atMost(UP).until(() -> host.partialDownloadBytes() > 0);
        host.kill();
        host.restart();
        return d;
      }
      case AGENT_KILLED_INSTALLING, AGENT_KILLED_ACTIVATING -> {
        String point = fault == Fault.AGENT_KILLED_ACTIVATING ? "activate"
            : random.nextBoolean() ? "preInstall" : "postInstall";
        release(v).push();
        return killedInside(host, point, () -> deployAll(v));
      }
      case AGENT_KILLED_CHECKING_HEALTH -> {
        release(v).push();
        return killedInside(host, "health-" + v, () -> deployAll(v));
      }
      case AGENT_KILLED_ROLLING_BACK -> {
        // Its activate fails: the host rolls back by itself, first running the failed release's
        // deactivate, where it is held.
        Files.createFile(moments(host).resolve("sick-" + v));
        release(v).push();
        return killedInside(host, "deactivate-" + v, () -> deployAll(v));
      }
      case AGENT_KILLED_AT_RANDOM -> {
        release(v).push();
        String d = deployAll(v);
        Thread.sleep(random.nextInt(3000)); // the drawn moment, wherever the rollout is then
        host.kill();
        host.restart();
        return d;
      }
      case AGENT_KILLED_IN_ROLLBACK -> {
        String point = List.of("deactivate", "activate", "health").get(random.nextInt(3));
        if (!point.equals("health")) {
          return killedInside(host, point, () -> rollback(host));
        }
        // The release it returns to is known once the rollback has started: held first in the
        // leaving release's deactivate, then in the health check of the one it returns to.
        hold(host, "deactivate");
        String d = rollback(host);
        awaitInside(host, "deactivate");
        String back = hostOf(fleet.deploymentJson(d), host).path("version").asText();
        hold(host, "health-" + back);
        letGo(host, "deactivate");
        awaitInside(host, "health-" + back);
        host.kill();
        letGo(host, "health-" + back);
        host.restart();
        return d;
      }
      case AGENT_TERMINATED_ACTIVATING -> {
        boolean deploy = random.nextBoolean();
        if (deploy) {
          release(v).push();
        }
        hold(host, "activate");
        String d = deploy ? deployAll(v) : rollback(host);
        awaitInside(host, "activate");
        host.terminate();
        letGo(host, "activate");
        host.awaitExit();
        host.restart();
        assertThat(fleet.awaitEnd(d)).as("a SIGTERM is not a failure").contains(": completed");
        return d;
      }
      case HOST_FROZEN_PAST_TIMEOUT -> {
        release(v).push();
        hold(host, "postInstall");
        String d = fleet.deploy("web@" + v, rack(host), "--host-timeout", "3s", "--health-gate", "0s");
        awaitInside(host, "postInstall");
        host.freeze();
        letGo(host, "postInstall");
        String end = fleet.awaitEnd(d);
        assertThat(end).contains("TIMED_OUT").doesNotContain(": completed");
        host.thaw();
        return d;
      }
      case HOST_FROZEN_IN_GATE -> {
        release(v).push();
        String d = fleet.deploy("web@" + v, rack(host), "--health-gate", "60s", "--host-timeout", "60s");
        await(host.name + " active on " + v).atMost(UP)
            .until(() -> host.phase("web").equals("ACTIVE") && host.current("web").equals(v));
        host.freeze();
        await(host.name + " failed in its gate").atMost(UP).pollInterval(Fleet.CLI_POLL)
            .until(() -> hostOf(fleet.deploymentJson(d), host).path("phase").asText().equals("UNHEALTHY"));
        host.thaw();
        return d;
      }
      case DISK_READ_ONLY_INSTALLING -> {
        release(v).push();
        hold(host, "preInstall");
        String d = fleet.deploy("web@" + v, rack(host), ROLLOUT);
        awaitInside(host, "preInstall");
        disk.readOnly();
        letGo(host, "preInstall");
        assertThat(fleet.awaitEnd(d)).contains("[disk_read_only]").doesNotContain(": completed");
        disk.writable();
        host.kill();
        host.restart();
        await("the end the disk refused, recorded at restart").atMost(UP)
            .until(() -> host.log().contains("recording the end the disk refused before the restart"));
        return d;
      }
      case CONTROLLER_KILLED_MID_ROLLOUT -> {
        // Some hosts fail their activation; the budget allows none or one.
        List<Fleet.Agent> all = new ArrayList<>(hosts.values());
        Collections.shuffle(all, random);
        int sick = random.nextInt(3);
        for (Fleet.Agent a : all.subList(0, sick)) {
          Files.createFile(moments(a).resolve("sick-" + v));
        }
        release(v).push();
        String budget = Integer.toString(random.nextInt(2));
        String d = fleet.deploy("web@" + v, "role=web", "--batch", "100%", "--health-gate", "0s", "--max-failures",
            budget, "--host-timeout", "60s");
        Thread.sleep(random.nextInt(4000)); // the drawn moment of the SIGKILL
        JsonNode shown = fleet.deploymentJson(d);
        List<String> audit = auditLines();
        assertThat(audit).as("the deploy is in the audit log").anyMatch(l -> l.contains(d));
        fleet.killController();
        fleet.startController();
        fleet.awaitEnd(d);
        JsonNode after = fleet.deploymentJson(d);
        assertThat(transitions(after)).as("transitions shown before the SIGKILL").containsAll(transitions(shown));
        assertThat(auditLines()).as("audit lines shown before the SIGKILL").containsAll(audit);
        return d;
      }
      default -> throw new IllegalStateException(fault.toString());
    }
  }

  // ---- the releases, and the moments their hooks hold open ----

  /**
   * A release of web whose every hook and health check takes part in the sweep: {@link #hook}. Its
   * health deadline leaves room for a hold of the health check.
   */
  private Fleet.WebRelease release(String v) {
    String health = "S=$(cd ../../../../../sweep && pwd) || exit 99; V=$(basename \"$PWD\")\n"
        + "if [ -e \"$S/hold-health-$V\" ]; then touch \"$S/at-health-$V\"; exit 1; fi\n"
        + "exit 0";
    return fleet.web(v).healthDeadline("30s").health(health)
        .activate(hook("activate", "[ -e \"$S/sick-$RACKROLL_VERSION\" ] && { echo sick >&2; exit 7; }\n"
            + Fleet.RECORD_VERSION))
        .hook("preInstall", hook("preInstall", ""), "60s")
        .hook("postInstall", hook("postInstall", ""), "60s")
        .hook("deactivate", hook("deactivate", ""), "60s");
  }

  /**
   * A hook of the sweep. It runs under a lock of its own ({@code flock} on an open file, which the
   * kernel releases when the last process holding it ends, killed or not): finding the lock taken
   * means another run of this hook still runs, and that is written down as an overlap. While the
   * file {@code hold-POINT} (or {@code hold-POINT-VERSION}, for that release's run only) exists it
   * says it is there ({@code at-POINT} or {@code at-POINT-VERSION}, with its process id) and waits.
   */
  private static String hook(String point, String body) {
    // Resolved once: a restarted agent may delete the (staging) directory a killed run started in.
    return "S=$(cd \"$RACKROLL_RELEASE_DIR/../../../../../sweep\" && pwd) || exit 99\n"
        + "exec 9>>\"$S/lock-" + point + "\"\n"
        + "flock -n 9 || echo \"" + point + " of $RACKROLL_VERSION started while another run of it was still running\""
        + " >> \"$S/overlaps\"\n"
        + "for H in \"$S/hold-" + point + "-$RACKROLL_VERSION\" \"$S/hold-" + point + "\"; do\n"
        + "  if [ -e \"$H\" ]; then\n"
        + "    exec >/dev/null 2>&1\n" // its log is on the host's disk, which may be remounted read-only meanwhile
        + "    echo $$ > \"$S/at-${H##*/hold-}\"\n"
        + "    while [ -e \"$H\" ]; do sleep 0.05; done\n"
        + "  fi\n"
        + "done\n"
        + body;
  }

  private Path moments(Fleet.Agent host) throws IOException {
    return Files.createDirectories(host.home.resolve("sweep"));
  }

  private void hold(Fleet.Agent host, String point) throws IOException {
    Files.createFile(moments(host).resolve("hold-" + point));
  }

  private void awaitInside(Fleet.Agent host, String point) throws IOException {
    Path at = moments(host).resolve("at-" + point);
    await(host.name + " inside " + point).atMost(UP).until(() -> Files.exists(at));
  }

  private void letGo(Fleet.Agent host, String point) throws IOException {
    Files.delete(moments(host).resolve("hold-" + point));
  }

  /**
   * Holds {@code host} inside {@code point}, SIGKILLs its agent there and restarts it. A hook left
   * running by the killed agent is still held: the restarted agent must end it before it goes on
   * (else the run it starts again finds the hook's lock taken). Then the hold is let go.
   */
  private String killedInside(Fleet.Agent host, String point, Start start) throws Exception {
    hold(host, point);
    String d = start.start();
    awaitInside(host, point);
    Path at = moments(host).resolve("at-" + point);
    Long leftover = point.startsWith("health-") ? null : Long.valueOf(Files.readString(at).trim());
    host.kill();
    Files.delete(at);
    host.restart();
    if (leftover != null) {
      await("the killed agent's " + point + " ended by the restarted agent").atMost(UP)
          .until(() -> ProcessHandle.of(leftover).map(p -> !p.isAlive()).orElse(true));
    }
    letGo(host, point);
    return d;
  }

  interface Start {
    String start() throws Exception;
  }

  private void clearMoments() throws IOException {
    for (Fleet.Agent host : hosts.values()) {
      try (Stream<Path> files = Files.list(moments(host))) {
        for (Path f : files.toList()) {
          String name = f.getFileName().toString();
          if (name.startsWith("hold-") || name.startsWith("at-") || name.startsWith("sick-")) {
            Files.delete(f);
          }
        }
      }
    }
  }

  // ---- what must hold after each trial ----

  /**
   * Waits until every host of {@code deployment} runs what its record says and the host's files
   * and the controller's record of it agree; fails with the last disagreement if they never do.
   * Then checks that no hook ever ran twice at once.
   */
  private void assertAgreement(String deployment) throws IOException {
    String[] last = {""};
    try {
      await("every host where " + deployment + " says").atMost(UP).pollInterval(Fleet.CLI_POLL)
          .until(() -> (last[0] = disagreement(deployment)) == null);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(last[0] + "\n" + fleet.deployment(deployment), e);
    }
    for (Fleet.Agent host : hosts.values()) {
      Path overlaps = moments(host).resolve("overlaps");
      assertThat(Files.exists(overlaps) ? Files.readString(overlaps) : "").as("hooks that overlapped on " + host.name)
          .isEmpty();
    }
  }

  /** What does not agree yet, in a line; null when everything does. */
  private String disagreement(String deployment) throws IOException {
    JsonNode d = fleet.deploymentJson(deployment);
    String state = d.path("state").asText();
    if (!ENDED.contains(state)) {
      return deployment + " is " + state;
    }
    Set<String> late = new HashSet<>();
    for (JsonNode t : d.path("transitions")) {
      if (t.path("phase").asText().equals("LATE_ACTIVE")) {
        late.add(t.path("agentId").asText());
      }
    }
    for (JsonNode h : d.path("hosts")) {
      String id = h.path("agentId").asText();
      Fleet.Agent host = byId(id);
      boolean takenBack = state.equals("rolled_back") || !h.path("revert").asText().isEmpty();
      boolean arrived = h.path("phase").asText().equals("ACTIVE") || late.contains(id);
      String expected = arrived && !takenBack ? h.path("version").asText() : h.path("beforeVersion").asText();
      if (!host.process.isAlive()) {
        return host.name + "'s agent is not running";
      }
      JsonNode job = host.job("web");
      String phase = job.path("phase").asText();
      if (!TERMINAL.contains(phase)) {
        return host.name + " is " + phase + " in " + job.path("deploymentId").asText();
      }
      String recorded = phase.equals("ACTIVE") ? job.path("version").asText() : job.path("previous").asText();
      String current = host.current("web");
      if (!current.equals(recorded)) {
        return host.name + "'s current link is " + current + ", its lifecycle.json says " + recorded + " (" + job + ")";
      }
      if (!current.equals(expected)) {
        return host.name + " runs " + current + ", " + deployment + " says " + expected + " (" + h + ")";
      }
    }
    for (Fleet.Agent host : hosts.values()) {
      JsonNode record = fleet.agentJson(host.id());
      if (!record.path("state").asText().equals("connected")) {
        return host.name + " is " + record.path("state").asText();
      }
      String reported = "";
      for (JsonNode app : record.path("apps")) {
        if (app.path("app").asText().equals("web")) {
          reported = app.path("currentVersion").asText();
        }
      }
      if (!reported.equals(host.current("web"))) {
        return "the controller has " + host.name + " on " + reported + ", its current link is " + host.current("web");
      }
    }
    return null;
  }

  /** {@code rackroll audit}, a line an entry. */
  private List<String> auditLines() {
    Fleet.Cli audit = fleet.rackroll("audit", "--limit", "1000");
    assertThat(audit.exit()).as(audit.toString()).isZero();
    return audit.out().lines().toList();
  }

  private static List<String> transitions(JsonNode deployment) {
    List<String> all = new ArrayList<>();
    deployment.path("transitions").forEach(t -> all.add(t.toString()));
    return all;
  }

  // ---- helpers ----

  private String deployAll(String v) {
    return fleet.deploy("web@" + v, "role=web", ROLLOUT);
  }

  private String rollback(Fleet.Agent host) throws IOException {
    return fleet.rollback("web", rack(host), "--host-timeout", "60s");
  }

  private static String rack(Fleet.Agent host) {
    return "rack=r" + (host.name.charAt(0) - 'a' + 1);
  }

  private Fleet.Agent any() {
    List<Fleet.Agent> all = new ArrayList<>(hosts.values());
    return all.get(random.nextInt(all.size()));
  }

  private Fleet.Agent byId(String id) throws IOException {
    for (Fleet.Agent host : hosts.values()) {
      if (host.id().equals(id)) {
        return host;
      }
    }
    throw new IllegalStateException("no host " + id);
  }

  private static JsonNode hostOf(JsonNode deployment, Fleet.Agent host) throws IOException {
    for (JsonNode h : deployment.path("hosts")) {
      if (h.path("agentId").asText().equals(host.id())) {
        return h;
      }
    }
    throw new IllegalStateException(host.name + " is not in " + deployment.path("id").asText());
  }

  private static String[] concat(String[] a, String[] b) {
    return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
  }
}
