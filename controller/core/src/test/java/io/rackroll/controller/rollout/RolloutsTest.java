package io.rackroll.controller.rollout;

import static io.rackroll.controller.testing.WireFleet.command;
import static io.rackroll.controller.testing.WireFleet.report;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;


import io.rackroll.controller.testing.RawAgent;
import io.rackroll.controller.testing.TestController;
import io.rackroll.controller.testing.WireFleet;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rackroll.proto.v1.AgentMessage;
import io.rackroll.proto.v1.Cpu;
import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.ListDeploymentsRequest;
import io.rackroll.proto.v1.OperatingSystem;
import io.rackroll.proto.v1.PlanRequest;
import io.rackroll.proto.v1.PlanResponse;
import io.rackroll.proto.v1.PlannedBatch;
import io.rackroll.proto.v1.PlannedHost;
import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.ControllerMessage;
import io.rackroll.proto.v1.Deploy;
import io.rackroll.proto.v1.DeployRequest;
import io.rackroll.proto.v1.DeploymentHost;
import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.proto.v1.DownloadProgress;
import io.rackroll.proto.v1.GetAgentRequest;
import io.rackroll.proto.v1.GetDeploymentRequest;
import io.rackroll.proto.v1.JobUpdate;
import io.rackroll.proto.v1.Rollback;
import io.rackroll.release.Artifact;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rollout engine's event loop against a real controller (mTLS, store, rollout loop) on a clock
 * the test moves, with hosts played at the wire so each test sends exactly the reports it needs:
 * host timeouts and download progress, the --offline policies, --skip-unfit, a disconnect inside
 * the health gate.
 */
class RolloutsTest {
  @TempDir Path dir;
  private TestController controller;
  private WireFleet hosts;

  @BeforeEach
  void start() throws Exception {
    controller = TestController.start(dir.resolve("data"));
    hosts = new WireFleet(controller);
    for (String version : new String[] {"1", "2", "3"}) { // a fresh release per deployment of a test
      Path src = Files.createDirectories(dir.resolve("web-" + version));
      Files.writeString(src.resolve("rackroll.yaml"), "name: web\nversion: \"" + version + "\"\n");
      Artifact.pack(src, dir.resolve("web-" + version + ".tar.gz"));
      controller.push(dir.resolve("web-" + version + ".tar.gz"));
    }
    // Past the reconnect grace a fresh controller gives hosts it has not heard from yet.
    controller.clock.advance(Duration.ofSeconds(5));
  }

  @AfterEach
  void stop() {
    controller.close();
  }

  @Test
  void downloadProgressKeepsAHostInWhileAQuietOneTimesOut() throws Exception {
    RawAgent.Stream a = connect("ag-a");
    RawAgent.Stream b = connect("ag-b");
    String id = deploy("1", Map.of("canary", "0", "batch", "2", "maxFailures", "1", "hostTimeout", "1m",
        "healthGate", "0s")).getId();
    Deploy job = command(a);
    report(a, job, "DOWNLOADING");
    report(b, command(b), "DOWNLOADING");
    awaitHost(id, "ag-a", "DOWNLOADING"); // recorded before the clock moves on
    awaitHost(id, "ag-b", "DOWNLOADING");

    controller.clock.advance(Duration.ofSeconds(40));
    a.send(AgentMessage.newBuilder().setProgress(DownloadProgress.newBuilder().setDeploymentId(id).setApp("web")
        .setVersion("1").setBytes(10).setSize(100)).build());
    await().atMost(10, TimeUnit.SECONDS).until(() -> host(id, "ag-a").getDownloadedBytes() == 10);
    controller.clock.advance(Duration.ofSeconds(40)); // 80 s since both started downloading

    // b said nothing for longer than the timeout; once the loop has seen that, a must still be in.
    DeploymentHost timedOut = awaitHost(id, "ag-b", "TIMED_OUT");
    assertThat(timedOut.getFailure()).isEqualTo("no progress for 1m (last: DOWNLOADING, --host-timeout)");
    DeploymentHost downloading = host(id, "ag-a");
    assertThat(downloading.getPhase()).isEqualTo("DOWNLOADING");
    assertThat(downloading.getDownloadSize()).isEqualTo(100);

    report(a, job, "ACTIVE");
    DeploymentRecord end = awaitEnd(id);
    assertThat(end.getState()).as("one failure, one allowed").isEqualTo("completed");
    assertThat(end.getFailures()).isEqualTo(1);
  }

  @Test
  void offlineHostsAreSkippedFailedOrWaitedForAsAsked() throws Exception {
    RawAgent.Stream a = connect("ag-a");
    RawAgent.Stream gone = connect("ag-gone");
    gone.hangUp();
    await().atMost(10, TimeUnit.SECONDS).until(() -> controller.admin()
        .getAgent(GetAgentRequest.newBuilder().setAgentId("ag-gone").build()).getState().equals("disconnected"));

    // skip: the offline host is listed as skipped, the rest goes ahead.
    String skip = deploy("1", Map.of("offline", "skip", "healthGate", "0s")).getId();
    report(a, command(a), "ACTIVE");
    DeploymentRecord skipped = awaitEnd(skip);
    assertThat(skipped.getState()).isEqualTo("completed");
    assertThat(host(skip, "ag-gone").getPhase()).isEqualTo("SKIPPED");
    assertThat(host(skip, "ag-gone").getFailure()).contains("offline since", "(--offline skip)");

    // fail: the offline host counts against a budget of 0 at once.
    String fail = deploy("2", Map.of("offline", "fail", "canary", "0", "batch", "2", "healthGate", "0s",
        "autoRollback", "false")).getId();
    DeploymentHost unreachable = awaitHost(fail, "ag-gone", "UNREACHABLE");
    assertThat(unreachable.getFailure()).isEqualTo("agent ag-gone is not connected (--offline fail)");
    report(a, command(a), "ACTIVE"); // in flight when the budget ran out: it finishes, then nothing more
    assertThat(awaitEnd(fail).getState()).isEqualTo("failed");

    // wait (the default): waited for up to the host timeout, then unreachable.
    String wait = deploy("3", Map.of("canary", "0", "batch", "2", "healthGate", "0s", "hostTimeout", "2m")).getId();
    assertThat(awaitHost(wait, "ag-gone", "WAITING").getFailure())
        .isEqualTo("agent ag-gone is not connected; waiting up to 2m");
    controller.clock.advance(Duration.ofMinutes(2).plusSeconds(1));
    assertThat(awaitHost(wait, "ag-gone", "UNREACHABLE").getFailure())
        .isEqualTo("agent ag-gone did not connect within 2m (--host-timeout)");
  }

  @Test
  void anUnfitHostIsSkippedOnlyWithSkipUnfit() throws Exception {
    RawAgent.Stream a = connect("ag-a");
    String skip = deploy("1", Map.of("skipUnfit", "true", "healthGate", "0s")).getId();
    report(a, command(a), "FAILED", "refused", "needs 2.0 GiB free on /var/lib/rackroll, has 0.7 GiB");
    DeploymentRecord skipped = awaitEnd(skip);
    assertThat(skipped.getState()).isEqualTo("completed");
    assertThat(host(skip, "ag-a").getPhase()).isEqualTo("SKIPPED");
    assertThat(host(skip, "ag-a").getFailure()).isEqualTo("needs 2.0 GiB free on /var/lib/rackroll, has 0.7 GiB");

    String counted = deploy("1", Map.of("healthGate", "0s", "autoRollback", "false")).getId();
    report(a, command(a), "FAILED", "refused", "needs 2.0 GiB free on /var/lib/rackroll, has 0.7 GiB");
    DeploymentRecord failed = awaitEnd(counted);
    assertThat(failed.getState()).isEqualTo("failed");
    assertThat(failed.getFailures()).isEqualTo(1);
    assertThat(host(counted, "ag-a").getFailureKind()).isEqualTo("refused");
  }

  @Test
  void hostsWhoseFactsFailTheReleasesRequiresStopTheDeployBeforeAnyHostHearsOfIt() throws Exception {
    Path src = Files.createDirectories(dir.resolve("big"));
    Files.writeString(src.resolve("rackroll.yaml"), "name: web\nversion: big\nrequires:\n  arch: [x86_64]\n"
        + "  os: linux\n  minCores: 64\n  minMemory: 1GiB\n");
    Artifact.pack(src, dir.resolve("big.tar.gz"));
    controller.push(dir.resolve("big.tar.gz"));
    RawAgent.Stream small = hosts.connect("ag-small", Map.of("rack", "r1"), facts("small", 4, "linux"));
    RawAgent.Stream large = hosts.connect("ag-large", Map.of("rack", "r1"), facts("large", 128, "linux"));
    // An older agent reports no os kind and no cores: the controller cannot judge it, its host will.
    RawAgent.Stream older = hosts.connect("ag-older", Map.of("rack", "r1"), RawAgent.facts("older", "s1"));

    PlanResponse plan = controller.admin().plan(PlanRequest.newBuilder().setDeploy(DeployRequest.newBuilder()
        .setName("web").setVersion("big").setSelector("rack=r1")).build());
    assertThat(plan.getUnfitList()).singleElement().satisfies(h -> {
      assertThat(h.getHostname()).isEqualTo("small");
      assertThat(h.getNote()).isEqualTo("needs 64 cores, has 4");
    });
    assertThat(plan.getBatchesList()).flatExtracting(PlannedBatch::getHostsList).extracting(PlannedHost::getHostname)
        .containsExactlyInAnyOrder("large", "older");

    assertThatThrownBy(() -> deploy("big", Map.of("healthGate", "0s")))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).isEqualTo("1 of 3 selected host(s) cannot take web@big by the"
              + " facts they reported: ag-small on small (needs 64 cores, has 4); see them all with 'rackroll plan', and deploy"
              + " to the others with --skip-unfit or narrow the selector");
        });
    assertThat(controller.admin().listDeployments(ListDeploymentsRequest.getDefaultInstance()).getDeploymentsList())
        .as("nothing recorded, nothing sent").isEmpty();

    String id = deploy("big", Map.of("skipUnfit", "true", "canary", "0", "batch", "3", "healthGate", "0s")).getId();
    assertThat(host(id, "ag-small").getPhase()).isEqualTo("SKIPPED");
    assertThat(host(id, "ag-small").getFailure()).isEqualTo("needs 64 cores, has 4 (--skip-unfit)");
    Deploy sent = command(large);
    assertThat(sent.getRequires().getMinCores()).as("the host checks again before its download").isEqualTo(64);
    assertThat(sent.getRequires().getArchList()).containsExactly("x86_64");
    report(large, sent, "ACTIVE");
    report(older, command(older), "ACTIVE");
    assertThat(awaitEnd(id).getState()).isEqualTo("completed");
    small.hangUp();
  }

  private static Facts facts(String hostname, int cores, String os) {
    return RawAgent.facts(hostname, hostname).toBuilder().setCpu(Cpu.newBuilder().setLogicalCores(cores))
        .setMemoryBytes(8L << 30).setOs(OperatingSystem.newBuilder().setFamily("Debian GNU/Linux").setKind(os)).build();
  }

  @Test
  void aHostThatDisconnectsDuringTheHealthGateFailsIt() throws Exception {
    RawAgent.Stream a = connect("ag-a");
    String id = deploy("1", Map.of("healthGate", "1h", "autoRollback", "false")).getId();
    report(a, command(a), "ACTIVE");
    await().atMost(10, TimeUnit.SECONDS).until(() -> host(id, "ag-a").getPhase().equals("ACTIVE"));
    assertThat(deployment(id).getState()).as("gated for an hour").isEqualTo("running");

    a.hangUp();
    DeploymentHost h = awaitHost(id, "ag-a", "UNHEALTHY");
    assertThat(h.getFailure()).isEqualTo("disconnected during the 1h health gate");
    assertThat(awaitEnd(id).getState()).isEqualTo("failed");
  }

  @Test
  void aHostThatFinishesAfterItsDeploymentRolledBackIsSentBackAndItsRealEndIsRecordedOnce() throws Exception {
    RawAgent.Stream a = connect("ag-a");
    RawAgent.Stream c = connect("ag-c");
    String first = deploy("1", Map.of("canary", "0", "batch", "2", "healthGate", "0s")).getId();
    report(a, command(a), "ACTIVE");
    report(c, command(c), "ACTIVE");
    assertThat(awaitEnd(first).getState()).isEqualTo("completed");

    String id = deploy("2", Map.of("canary", "0", "batch", "2", "healthGate", "0s", "hostTimeout", "1m",
        "maxFailures", "0")).getId();
    report(a, command(a), "ACTIVE");
    Deploy frozen = command(c); // c is frozen mid-install: it says nothing
    awaitHost(id, "ag-a", "ACTIVE");
    controller.clock.advance(Duration.ofSeconds(61));
    awaitHost(id, "ag-c", "TIMED_OUT");
    Rollback back = rollback(a);
    reportRollback(a, back, "ACTIVE", "1");
    assertThat(awaitEnd(id).getState()).isEqualTo("rolled_back");

    // c wakes up and finishes: news, however often it says so.
    report(c, frozen, "ACTIVE");
    report(c, frozen, "ACTIVE");
    Rollback sentBack = rollback(c);
    assertThat(sentBack.getDeploymentId()).isEqualTo(id + ":revert");
    assertThat(sentBack.getToVersion()).isEqualTo("1");
    reportRollback(c, sentBack, "ACTIVE", "1");
    await().atMost(10, TimeUnit.SECONDS).until(() -> host(id, "ag-c").getRevert().equals("REVERTED"));
    assertThat(controller.admin().getDeployment(GetDeploymentRequest.newBuilder().setId(id).setTransitions(true).build())
        .getTransitionsList()).filteredOn(t -> t.getAgentId().equals("ag-c"))
        .extracting(t -> t.getPhase()).containsOnlyOnce("LATE_ACTIVE");
    assertThat(host(id, "ag-c").getPhase()).as("the deployment's count stands").isEqualTo("TIMED_OUT");
  }

  /** Waits for this host's next rollback command. */
  private static Rollback rollback(RawAgent.Stream s) throws InterruptedException {
    while (true) {
      ControllerMessage m = s.next();
      if (m.hasCommand() && m.getCommand().getKindCase() == Command.KindCase.ROLLBACK) {
        return m.getCommand().getRollback();
      }
    }
  }

  private static void reportRollback(RawAgent.Stream s, Rollback job, String phase, String current) {
    s.send(AgentMessage.newBuilder().setJob(JobUpdate.newBuilder().setDeploymentId(job.getDeploymentId())
        .setApp(job.getApp()).setVersion(job.getToVersion()).setPhase(phase).setCurrentVersion(current)
        .setAtEpochMillis(System.currentTimeMillis())).build());
  }

  // ---- the wire, as a host plays it ----

  /** Enrolls {@code id} in rack r1 and opens its stream; returns once the controller welcomed it. */
  private RawAgent.Stream connect(String id) throws Exception {
    return hosts.connect(id, Map.of("rack", "r1"));
  }

  private DeploymentRecord deploy(String version, Map<String, String> options) {
    return controller.admin().deploy(DeployRequest.newBuilder().setName("web").setVersion(version).setSelector("rack=r1")
        .putAllOptions(options).build());
  }

  private DeploymentHost host(String id, String agentId) {
    return hosts.host(id, agentId);
  }

  private DeploymentHost awaitHost(String id, String agentId, String phase) {
    return hosts.awaitHost(id, agentId, phase);
  }

  private DeploymentRecord awaitEnd(String id) {
    return hosts.awaitEnd(id);
  }

  private DeploymentRecord deployment(String id) {
    return hosts.deployment(id);
  }
}
